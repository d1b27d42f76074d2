package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
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
    /** The client ran LISTEN, which must not outlive its transaction on a shared backend. */
    private boolean listening;
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
        return pinned;
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
        return pinned ? 0 : StatementEffects.PINNING;
    }

    @Override
    void onEffects(StatementEffects.Found found, BackendLink link, ClientSession who) {
        if (found.pinning() != null && !pinned) {
            pin(found.pinning(), link, who);
        }
    }

    /** The client used {@code why}, which no other client may see: it keeps its backend from now on. */
    private void pin(String why, BackendLink link, ClientSession who) {
        pinned = true;
        log.info("event=client_pinned client={} pool={} reason=\"{}\"", who.id(), who.pool().key(), why);
        ByteBuf out = link.clientAlloc().buffer();
        new ErrorResponse("NOTICE", "01000", "pgwarden: this connection keeps its server connection from now on "
                + "because it used " + why + ", which transaction pooling cannot share", null,
                "Use a session-mode database for this client to avoid holding a server connection per client.")
                .encodeAsNotice(out);
        link.writeToClient(out);
    }

    @Override
    boolean listening() {
        return listening;
    }

    @Override
    void unlistened() {
        listening = false;
    }

    @Override
    void onListen(BackendLink link) {
        if (listening) {
            return;
        }
        listening = true;
        ByteBuf out = link.clientAlloc().buffer();
        new ErrorResponse("WARNING", "0A000", "pgwarden: LISTEN has no lasting effect in transaction pooling mode; "
                + "notifications are delivered only until this transaction ends", null,
                "Use a database with pool_mode: session for LISTEN/NOTIFY.").encodeAsNotice(out);
        link.writeToClient(out);
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
