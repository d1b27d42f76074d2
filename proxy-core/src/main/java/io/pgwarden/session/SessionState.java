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
 * backend then closes the client with a clear error instead of silently dropping what it had.
 */
final class SessionState {

    private final Map<String, byte[]> statements = new LinkedHashMap<>();
    private String unrestorableBecause;

    /**
     * Call for every message relayed to the backend in session mode: it keeps the named statements. What a
     * statement's text does comes separately ({@link #onEffects}), from the one pass the session makes over it.
     */
    void onClientMessage(ByteBuf message, byte tag) {
        if (tag == Tags.Frontend.PARSE && !ExtendedQueryMessages.firstNameIsEmpty(message)) {
            statements.put(ExtendedQueryMessages.parseStatementName(message), ExtendedQueryMessages.parseBody(message));
        } else if (tag == Tags.Frontend.CLOSE
                && ExtendedQueryMessages.targetKind(message) == ExtendedQueryMessages.STATEMENT) {
            statements.remove(ExtendedQueryMessages.targetName(message));
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
        statements.clear();
        unrestorableBecause = null;
    }

    void onDeallocateAll() {
        statements.clear();
    }

    Map<String, byte[]> statements() {
        return statements;
    }

    /** Null when the session can be rebuilt; otherwise what it used that cannot be. */
    String unrestorableBecause() {
        return unrestorableBecause;
    }
}
