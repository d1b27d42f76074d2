package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.ExtendedQueryMessages;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.sql.StatementEffects;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Session mode: what pgwarden needs to rebuild a session on a fresh backend after its backend was lost while
 * the client sat idle: the named prepared statements it created, and whether it used anything that cannot
 * be rebuilt. A statement that creates such state ({@link StatementEffects#UNRESTORABLE}: temporary objects,
 * LISTEN, session advisory locks, WITH HOLD cursors, SQL PREPARE, a role, lo_open; read on tokens, so a literal
 * or comment that spells one does not count) marks the session unrestorable until DISCARD ALL, so a lost
 * backend then closes the client with a clear error instead of silently dropping what it had. The copies kept
 * for restoring are bounded by the client's share of statement memory: past it the server still has every
 * statement, but pgwarden would not, so the session counts as unrestorable instead of holding unbounded bytes.
 */
final class SessionState {

    private final long maxStatementBytes;
    private final Map<String, byte[]> statements = new LinkedHashMap<>();
    private long statementBytes;
    /** Set once a statement did not fit: from then on none is kept, until DEALLOCATE ALL or DISCARD ALL. */
    private String statementsDropped;
    private String unrestorableBecause;

    SessionState(long maxStatementBytes) {
        this.maxStatementBytes = maxStatementBytes;
    }

    /**
     * Call for every message relayed to the backend in session mode: it keeps the named statements. What a
     * statement's text does comes separately ({@link #onEffects}), from the one pass the session makes over it.
     */
    void onClientMessage(ByteBuf message, byte tag) {
        if (tag == Tags.Frontend.PARSE && !ExtendedQueryMessages.firstNameIsEmpty(message)) {
            String name = ExtendedQueryMessages.parseStatementName(message);
            forget(name);
            if (statementsDropped != null) {
                return;
            }
            byte[] body = ExtendedQueryMessages.parseBody(message);
            if (statementBytes + body.length > maxStatementBytes) {
                statementsDropped = "more prepared statements than listen.max_prepared_statement_bytes_per_client ("
                        + maxStatementBytes + " bytes) lets pgwarden keep";
                statements.clear();
                statementBytes = 0;
                return;
            }
            statements.put(name, body);
            statementBytes += body.length;
        } else if (tag == Tags.Frontend.CLOSE
                && ExtendedQueryMessages.targetKind(message) == ExtendedQueryMessages.STATEMENT) {
            forget(ExtendedQueryMessages.targetName(message));
        }
    }

    private void forget(String name) {
        byte[] old = statements.remove(name);
        if (old != null) {
            statementBytes -= old.length;
        }
    }

    /** A statement of the session's was read for {@link StatementEffects#UNRESTORABLE}. */
    void onEffects(StatementEffects.Found found) {
        if (unrestorableBecause == null && found.unrestorable() != null) {
            unrestorableBecause = "the session used " + found.unrestorable();
        }
    }

    /** DISCARD ALL: the server forgot everything, so there is nothing left to restore or to lose. */
    void onDiscardAll() {
        onDeallocateAll();
        unrestorableBecause = null;
    }

    void onDeallocateAll() {
        statements.clear();
        statementBytes = 0;
        statementsDropped = null;
    }

    Map<String, byte[]> statements() {
        return statements;
    }

    /** Null when the session can be rebuilt; otherwise what it used that cannot be. */
    String unrestorableBecause() {
        return unrestorableBecause != null ? unrestorableBecause : statementsDropped;
    }
}
