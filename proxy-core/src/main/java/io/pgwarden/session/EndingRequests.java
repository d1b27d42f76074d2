package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.ExtendedQueryMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.sql.TransactionEnd;
import java.util.HashMap;
import java.util.Map;

/**
 * Which of the client's requests end its transaction: a Query that is only COMMIT or ROLLBACK (or END, ABORT), a
 * Parse of such text, or a Bind of a statement prepared from it (drivers such as pgjdbc prepare COMMIT once and
 * bind it by name). A lost backend means something else for those: the transaction is over either way.
 */
final class EndingRequests {

    private static final byte[] UNNAMED = new byte[0];

    private TransactionEnd unnamed = TransactionEnd.NONE;
    /** The unnamed statement was streamed: {@link #unnamed} is COMMIT because its text was not all read. */
    private boolean unnamedPartial;
    /** The client's named statements whose text ends a transaction; null until it prepares one (most never do). */
    private Map<String, TransactionEnd> named;
    /** An ending request sent and not yet answered with ReadyForQuery. */
    private TransactionEnd inFlight = TransactionEnd.NONE;
    /** {@link #inFlight} was only parsed or described, and nothing has been bound since: it has run nothing. */
    private boolean inFlightUnexecuted;

    /** What {@code message} would do if it ran now, remembering nothing (it is answered without a backend). */
    TransactionEnd of(ByteBuf message, byte tag) {
        return switch (tag) {
            // Megabytes of text are no lone COMMIT or ROLLBACK worth a special answer.
            case Tags.Frontend.QUERY, Tags.Frontend.PARSE -> Frames.isPartial(message) ? TransactionEnd.NONE
                    : TransactionEnd.ofMessage(message, tag);
            case Tags.Frontend.BIND -> ofBind(message);
            default -> TransactionEnd.NONE;
        };
    }

    /** A client request on its way to the backend. */
    void onSent(ByteBuf message, byte tag) {
        switch (tag) {
            case Tags.Frontend.QUERY -> {
                // A simple query replaces the unnamed statement.
                unnamed = TransactionEnd.NONE;
                unnamedPartial = false;
                sent(ofSent(message, tag));
            }
            case Tags.Frontend.PARSE -> remember(message);
            case Tags.Frontend.DESCRIBE -> {
                // Only pg8000's Describe of its unnamed COMMIT or ROLLBACK counts; the common case costs a compare.
                if (unnamed != TransactionEnd.NONE && !unnamedPartial
                        && ExtendedQueryMessages.targetKind(message) == ExtendedQueryMessages.STATEMENT
                        && ExtendedQueryMessages.targetIsUnnamed(message)) {
                    prepared(unnamed);
                }
            }
            case Tags.Frontend.BIND -> sent(ofBind(message));
            default -> {
            }
        }
    }

    /** The client got a ReadyForQuery: whatever was in flight has been answered. */
    void onReadyForQuery() {
        inFlight = TransactionEnd.NONE;
        inFlightUnexecuted = false;
    }

    /** The ending request in flight when the backend was lost (NONE if none), forgotten from now on. */
    TransactionEnd takeInFlight() {
        TransactionEnd end = inFlight;
        inFlight = TransactionEnd.NONE;
        inFlightUnexecuted = false;
        return end;
    }

    private void sent(TransactionEnd end) {
        if (end != TransactionEnd.NONE) {
            inFlight = end;
            inFlightUnexecuted = false;
        } else if (inFlightUnexecuted) {
            // Something else is bound after it: the client did not mean to end its transaction with this batch.
            inFlight = TransactionEnd.NONE;
            inFlightUnexecuted = false;
        }
    }

    /**
     * pg8000 parses its COMMIT or ROLLBACK in a batch of its own, describes it in a second and binds it in a third:
     * lost in the first two, the client meant to end the transaction all the same (it gets the same answer when it
     * sends that Parse after the loss). Nothing was committed yet, so it is told the transaction was rolled back.
     */
    private void prepared(TransactionEnd end) {
        if (end != TransactionEnd.NONE && (inFlight == TransactionEnd.NONE || inFlightUnexecuted)) {
            inFlight = TransactionEnd.ROLLBACK;
            inFlightUnexecuted = true;
        }
    }

    /**
     * A streamed Query or Parse may hold a COMMIT past the prefix pgwarden reads, so it counts as one: lost in
     * flight, the client hears that its transaction may or may not have been committed, and is out of it. Taken
     * as anything else, it would be told the transaction was rolled back, which may be untrue.
     */
    private static TransactionEnd ofSent(ByteBuf message, byte tag) {
        return Frames.isPartial(message) ? TransactionEnd.COMMIT : TransactionEnd.ofMessage(message, tag);
    }

    private void remember(ByteBuf parse) {
        TransactionEnd end = ofSent(parse, Tags.Frontend.PARSE);
        boolean partial = Frames.isPartial(parse);
        // A streamed text is taken as COMMIT only for what its execution may do; parsing it ends nothing.
        prepared(partial ? TransactionEnd.NONE : end);
        if (ExtendedQueryMessages.firstNameIsEmpty(parse)) {
            unnamed = end;
            unnamedPartial = partial;
        } else if (end != TransactionEnd.NONE) {
            if (named == null) {
                named = new HashMap<>(4);
            }
            named.put(ExtendedQueryMessages.parseStatementName(parse), end);
        } else if (named != null && !named.isEmpty()) {
            named.remove(ExtendedQueryMessages.parseStatementName(parse));
        }
    }

    private TransactionEnd ofBind(ByteBuf bind) {
        if (ExtendedQueryMessages.bindNamesStatement(bind, UNNAMED)) {
            return unnamed;
        }
        if (named == null || named.isEmpty()) {
            return TransactionEnd.NONE;
        }
        return named.getOrDefault(ExtendedQueryMessages.bindStatementName(bind), TransactionEnd.NONE);
    }
}
