package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.session.sql.StatementEffects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend per transaction. Named prepared statements follow the client between backends; a statement whose
 * effect no other client may see (a role, a temporary table) pins the client to its backend for good.
 */
final class TransactionPooling extends PoolingMode {

    private static final Logger log = LoggerFactory.getLogger(TransactionPooling.class);

    private final StatementNames names;
    private final int maxPreparedStatements;
    /** Made at the client's first statement message: many clients never prepare one (heap per client counts). */
    private PreparedStatementRelay statements;
    /** Made at the client's first LISTEN: most clients never run one. */
    private TransactionListening listening;
    private volatile boolean pinned;

    TransactionPooling(StatementNames names, int maxPreparedStatements) {
        this.names = names;
        this.maxPreparedStatements = maxPreparedStatements;
    }

    @Override
    boolean keepsBackend() {
        return pinned;
    }

    @Override
    boolean resetsWithQuery() {
        // A backend left listening (its client gone mid-handover) is cleared by the reset query too.
        return pinned || listening != null && listening.busyWithBackend();
    }

    @Override
    boolean checksLinkFirst() {
        return true;
    }

    @Override
    String label() {
        return "transaction";
    }

    @Override
    void relay(ByteBuf message, byte tag, BackendLink link) {
        if (listening != null) {
            listening.beforeRelay(message, tag, link);
        }
        if (PreparedStatementRelay.isStatementMessage(tag)) {
            link.countIn(message);
            if (statements == null) {
                statements = new PreparedStatementRelay(names, maxPreparedStatements);
            }
            statements.relay(message, tag, link);
            link.writeSyntheticResponses();
            link.relayed();
        } else {
            link.send(message, tag);
        }
    }

    @Override
    int effectsWanted() {
        // A pinned client keeps its backend and its settings with it.
        return pinned ? 0 : StatementEffects.PINNING | StatementEffects.SETTINGS;
    }

    @Override
    void onEffects(StatementEffects.Found found, BackendLink link, ClientSession who) {
        onSettingsEffects(found, who.settingsSync);
        if (found.pinning() != null && !pinned) {
            pin(found.pinning(), link, who);
        }
    }

    /** The client used {@code why}, which no other client may see: it keeps its backend from now on. */
    private void pin(String why, BackendLink link, ClientSession who) {
        pinned = true;
        log.info("event=client_pinned client={} pool={} reason={}", who.id(), who.pool().key(), LogValues.quote(why));
        ByteBuf out = link.clientAlloc().buffer();
        new ErrorResponse("NOTICE", "01000", "pgwarden: this connection keeps its server connection from now on "
                + "because it used " + why + ", which transaction pooling cannot share", null,
                "Use a session-mode database for this client to avoid holding a server connection per client.")
                .encodeAsNotice(out);
        link.writeToClient(out);
    }

    @Override
    boolean listening() {
        return listening != null && listening.busyWithBackend();
    }

    @Override
    void onListen(BackendLink link) {
        if (listening == null) {
            listening = new TransactionListening();
        }
        listening.onListen(link);
    }

    @Override
    void onUnlisten() {
        if (listening != null) {
            listening.onUnlisten();
        }
    }

    @Override
    boolean holdsReadyForQuery(ByteBuf readyForQuery) {
        // A pinned client's LISTEN stays on its own backend: nothing to hand over.
        return !pinned && listening != null && listening.holdsReadyForQuery(readyForQuery);
    }

    @Override
    void onBackendLost(ClientSession who) {
        if (listening != null) {
            listening.onBackendLost(who);
        }
    }

    @Override
    void onRollback() {
        if (listening != null) {
            listening.onRollback();
        }
    }

    @Override
    boolean tidyListening(ClientSession who, BackendConnection from) {
        return listening != null && listening.tidy(who, from);
    }

    @Override
    void afterIdle(ClientSession who) {
        if (listening != null) {
            listening.afterIdle(who);
        }
    }

    @Override
    void onClientWritable() {
        if (listening != null) {
            listening.onClientWritable();
        }
    }

    @Override
    void onClose() {
        if (statements != null) {
            statements.releaseAll();
        }
        if (listening != null) {
            listening.onClose();
        }
    }

    @Override
    void onDiscardAll(BackendLink link) {
        onDeallocateAll(link);
    }

    /** The client's statements are gone, and so is everything on the backend. */
    @Override
    void onDeallocateAll(BackendLink link) {
        if (statements != null) {
            statements.onDeallocateAll(link.backend());
        } else {
            link.backend().prepared().clear();
        }
    }
}
