package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.net.LargeMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.session.sql.StatementEffects;

/**
 * What the session does about the text of a Query or Parse it forwards: notes it for the operator, and acts on
 * what it says (what the pooling mode watches for: pinning, an unrestorable session, settings; and DROP
 * DATABASE), all in one pass over every statement of the text.
 *
 * <p>A message streamed to the backend as it arrives is read from the prefix its head carries
 * ({@link LargeMessages#STREAM_PREFIX}); what its unread rest may do is assumed wherever assuming it is the
 * safe side, and not where the mistake is harmless:
 * <ul>
 *   <li>pinning (transaction mode): assumed. The rest may SET ROLE, create a temporary table, take an advisory
 *       lock or set a custom setting, all of which another client must never see; pinned, the client keeps its
 *       backend and the reset query clears it at the end. The cost is one server connection held by this client.
 *   <li>settings: assumed changed, so they are read back at the next idle (session mode: so that a replacement
 *       backend gets them; custom settings past the prefix cannot be named, but the session is also taken as
 *       unrestorable, so it is never silently rebuilt without them).
 *   <li>unrestorable (session mode): assumed. Lost, the session is ended with a FATAL that says why rather than
 *       rebuilt on a new backend without what the rest may have created.
 *   <li>DROP DATABASE: not assumed. Past the prefix, pgwarden's idle connections to that database are not closed
 *       first, so the DROP fails with PostgreSQL's own 55006 ("being accessed by other users"), which is visible
 *       and harmless; closing every idle connection of every database for each large query would not be.
 * </ul>
 * Transaction end is decided in {@link EndingRequests}.
 */
final class StatementActions {

    /** How a pinning or unrestorable session names the cause, as "it used X" ends. */
    static final String UNREAD_TEXT = "a statement longer than " + (LargeMessages.STREAM_ABOVE >> 20)
            + " MiB (pgwarden reads only its first " + (LargeMessages.STREAM_PREFIX >> 10) + " KiB)";

    private StatementActions() {
    }

    static void onStatement(ClientSession s, ProxyContext context, ByteBuf message, byte tag) {
        s.notes.note(message, tag, s.transactionStatus != TransactionStatus.IDLE);
        int wanted = StatementEffects.DROPPED_DATABASE | s.mode.effectsWanted();
        // Nothing is allocated when no statement pins, drops or makes the session unrestorable.
        StatementEffects.Found found = StatementEffects.of(message, tag, wanted);
        if (Frames.isPartial(message)) {
            found = assumingTheUnread(found, wanted);
        }
        if (found == null) {
            return;
        }
        s.mode.onEffects(found, s.link, s);
        if (found.droppedDatabase() != null) {
            // Our own idle backends on that database would make it fail with 55006; they go first.
            context.pools().closeIdleBackendsOf(found.droppedDatabase());
        }
    }

    /** What the prefix showed, and what the rest may do where that is the safe side (see the class comment). */
    static StatementEffects.Found assumingTheUnread(StatementEffects.Found prefix, int wanted) {
        String pinning = prefix != null ? prefix.pinning() : null;
        String unrestorable = prefix != null ? prefix.unrestorable() : null;
        if (pinning == null && (wanted & StatementEffects.PINNING) != 0) {
            pinning = UNREAD_TEXT;
        }
        if (unrestorable == null && (wanted & StatementEffects.UNRESTORABLE) != 0) {
            unrestorable = UNREAD_TEXT;
        }
        boolean settings = (wanted & StatementEffects.SETTINGS) != 0 || prefix != null && prefix.settings();
        if (pinning == null && unrestorable == null && !settings && prefix == null) {
            return null;
        }
        return new StatementEffects.Found(pinning, unrestorable, prefix != null ? prefix.droppedDatabase() : null,
                settings, prefix != null ? prefix.customSettings() : null);
    }
}
