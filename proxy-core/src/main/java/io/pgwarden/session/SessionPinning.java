package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.session.sql.StatementEffects;

/**
 * Transaction mode: the statements whose effect outlives the transaction on the backend and belongs to one
 * client alone (a role, a temporary object). Every statement of the text counts, read on its tokens, so neither
 * a second statement nor a comment or literal in front hides one; see {@link StatementEffects} for the list.
 */
final class SessionPinning {

    private SessionPinning() {
    }

    /**
     * What the first statement of a frontend Query or Parse {@code message} that forces pinning uses ("SET
     * ROLE", "a temporary table", …), or null.
     */
    static String reason(ByteBuf message, byte tag) {
        StatementEffects.Found found = StatementEffects.of(message, tag, StatementEffects.PINNING);
        return found == null ? null : found.pinning();
    }

    /**
     * One pass for both things a session acts on: what pins (looked for only when {@code pinningWanted}) and the
     * database a DROP DATABASE drops, as {@link #reason} and {@link DropDatabase#target} find them. Null when
     * neither is there, and then nothing was allocated.
     */
    static StatementEffects.Found reasonAndDroppedDatabase(ByteBuf message, byte tag, boolean pinningWanted) {
        return StatementEffects.of(message, tag,
                StatementEffects.DROPPED_DATABASE | (pinningWanted ? StatementEffects.PINNING : 0));
    }
}
