package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.metrics.ServerLossMoment;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.session.sql.TransactionEnd;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * What a client's lost backend means for it, decided in one place: replay what provably never ran, answer what
 * was owed with one clean error, or close a session that cannot be rebuilt; what the client's COMMIT or ROLLBACK
 * of a lost transaction gets; and, on the next backend, what must be recreated first (the session's statements,
 * a transaction that has already failed, or an open one for the client's ROLLBACK to end).
 */
final class ServerLossRecovery {

    /** What the session does about a lost backend. */
    sealed interface Outcome permits Replay, AnswerOwed, Quiet, Close {
    }

    /** Nothing of these requests ran: send them again, first in line, on another backend. */
    record Replay(List<ByteBuf> requests) implements Outcome {
    }

    /**
     * Everything the client is owed gets {@code error}, and ReadyForQuery with {@code status}; when
     * {@code rolledBack} the client's ROLLBACK was in flight, and a lone ROLLBACK query owed gets its own answer.
     */
    record AnswerOwed(ErrorResponse error, TransactionStatus status, boolean rolledBack) implements Outcome {
    }

    /** Nothing was owed: an open transaction is reported at the client's next request. */
    record Quiet() implements Outcome {
    }

    /** The session cannot be rebuilt on a new backend. */
    record Close(ErrorResponse fatal) implements Outcome {
    }

    /**
     * The answer to the client's first request after its transaction was lost: {@code error} and ReadyForQuery
     * with {@code status}, without a backend; or, when {@code error} is null, {@code notice}, and the request goes
     * on to a backend.
     */
    record LostAnswer(ErrorResponse error, TransactionStatus status, ErrorResponse notice) {
    }

    private static final Quiet QUIET = new Quiet();
    private static final String HINT = "The client keeps its connection to pgwarden; its next transaction runs on a "
            + "new server connection.";

    private final ReplayWindow replay = new ReplayWindow();
    private final EndingRequests ending = new EndingRequests();
    private ReadOnlyReplay readOnly;
    /** The backend died in the client's transaction: the next link first recreates a failed transaction. */
    private boolean failedTransactionToRestore;
    /** The client's ROLLBACK of a lost transaction: the next link first opens one for it to end. */
    private boolean openTransactionToRestore;
    /** The backend died while the client sat in a transaction: its next request is answered with this. */
    private ErrorResponse lostTransactionError;
    /** Session mode: the next backend gets the session's statements first. */
    private boolean restoreOnLink;
    /**
     * The server requests being replayed were lost on, until they are sent again: a replay that lands on another
     * host is one across a failover. Null otherwise, so the normal path costs one null check.
     */
    private InetSocketAddress replayLostOn;

    ReplayWindow replay() {
        return replay;
    }

    /** The link's holder of first answers, which keeps the requests a read-only error may have sent again. */
    void watchReadOnly(ReadOnlyReplay holder) {
        readOnly = holder;
    }

    /** A client request on its way to the backend; the caller still owns {@code message}. */
    void onForward(ByteBuf message, byte tag) {
        ending.onSent(message, tag);
        if (replay.isOpen()) {
            replay.keep(message);
        }
        readOnly.onForward(message, tag);
    }

    /** The client got a ReadyForQuery. */
    void onReadyForQuery() {
        ending.onReadyForQuery();
    }

    Outcome onLoss(BackendConnection dead, boolean inTransaction, boolean owedNothing, SessionState session) {
        if (replay.nothingRanOn(dead)) {
            return new Replay(replay.take());
        }
        replay.close();
        TransactionEnd endInFlight = ending.takeInFlight();
        if (owedNothing) {
            endInFlight = TransactionEnd.NONE;
        }
        if (session != null && session.unrestorableBecause() != null) {
            return new Close(ErrorResponse.fatal("08006", "pgwarden: the server connection was lost ("
                    + describe(dead) + ") and this session cannot be restored on a new one: "
                    + session.unrestorableBecause()));
        }
        restoreOnLink = session != null;
        if (inTransaction && endInFlight != TransactionEnd.NONE) {
            // The client was ending its transaction, and a lost backend ends it too: the client is out of it,
            // and no failed transaction is recreated for it.
            return new AnswerOwed(lostConnectionError(dead, endInFlight == TransactionEnd.COMMIT
                    ? "the COMMIT was in flight, so the transaction may or may not have been committed"
                    : "the transaction was rolled back"), TransactionStatus.IDLE,
                    endInFlight == TransactionEnd.ROLLBACK);
        }
        failedTransactionToRestore |= inTransaction;
        if (owedNothing) {
            lostTransactionError = inTransaction ? lostConnectionError(dead, "the transaction was rolled back") : null;
            return QUIET;
        }
        return new AnswerOwed(lostConnectionError(dead, inTransaction ? "the transaction was rolled back"
                : "the request may or may not have been executed"),
                inTransaction ? TransactionStatus.FAILED_TRANSACTION : TransactionStatus.IDLE, false);
    }

    /** Requests lost on {@code lost} are about to wait for another backend, to be sent again there. */
    void replayingFrom(BackendConnection lost) {
        replayLostOn = lost.serverAddress();
    }

    /** On the backend a replay is sent on: true, once, when it is on another server than the one it was lost on. */
    boolean replayMovedTo(BackendConnection next) {
        InetSocketAddress lost = replayLostOn;
        if (lost == null) {
            return false;
        }
        replayLostOn = null;
        return !lost.equals(next.serverAddress());
    }

    /** What the client was doing when it lost its backend, for the metrics; null when it was idle. */
    ServerLossMoment moment(boolean inTransaction, boolean owedNothing) {
        if (owedNothing) {
            return inTransaction ? ServerLossMoment.IDLE_IN_TRANSACTION : null;
        }
        return replay.syncAnswered() ? ServerLossMoment.REQUEST_AFTER_CHECK : ServerLossMoment.REQUEST_UNCHECKED;
    }

    /**
     * The client's first request since its transaction was lost while it sat in it (null otherwise, and for
     * every later request). A COMMIT gets the error and leaves the client out of the transaction, since
     * drivers take a failed COMMIT as the transaction's end (psycopg2 does, whatever ReadyForQuery says); a
     * ROLLBACK gets a NOTICE and then goes on to a backend, where a transaction is opened for it, so that it
     * (and {@code AND CHAIN}) gets PostgreSQL's own answer; anything else gets the error in a failed
     * transaction, which the client's ROLLBACK then ends.
     */
    LostAnswer onRequestAfterLoss(ByteBuf message, byte tag) {
        ErrorResponse lost = lostTransactionError;
        if (lost == null) {
            return null;
        }
        lostTransactionError = null;
        TransactionEnd end = ending.of(message, tag);
        if (end == TransactionEnd.ROLLBACK) {
            failedTransactionToRestore = false;
            openTransactionToRestore = true;
            return new LostAnswer(null, null, new ErrorResponse("NOTICE", "00000", "pgwarden: the server "
                    + "connection had been lost; the transaction was already rolled back",
                    lost.sqlstate().equals("08006") ? null : lost.sqlstate() + ": " + lost.message(), null));
        }
        if (end == TransactionEnd.COMMIT) {
            failedTransactionToRestore = false;
            return new LostAnswer(lost, TransactionStatus.IDLE, null);
        }
        return new LostAnswer(lost, TransactionStatus.FAILED_TRANSACTION, null);
    }

    /**
     * A request skipped after the lost transaction's error (the rest of the client's batch): true when it is the
     * client's COMMIT or ROLLBACK, which ends the transaction, so none is recreated for it.
     */
    boolean skipsEndOfLostTransaction(ByteBuf message, byte tag) {
        if (!failedTransactionToRestore || ending.of(message, tag) == TransactionEnd.NONE) {
            return false;
        }
        failedTransactionToRestore = false;
        return true;
    }

    /**
     * On a new backend after a loss: the session's prepared statements (session mode), then a transaction that
     * has already failed, so the client's ROLLBACK (or anything else) gets exactly PostgreSQL's answer; or, when
     * the client's first request was its ROLLBACK, an open transaction for it to end.
     */
    void restoreOn(BackendLink link, SessionState session) {
        if (restoreOnLink && session != null && !session.statements().isEmpty()) {
            for (Map.Entry<String, byte[]> statement : session.statements().entrySet()) {
                link.hidden().parse(statement.getKey(), statement.getValue());
            }
            // Its own Sync, so a statement that no longer parses cannot make the server skip the client's requests.
            link.hidden().sync(null, null);
        }
        restoreOnLink = false;
        if (failedTransactionToRestore) {
            failedTransactionToRestore = false;
            link.hidden().query("BEGIN; DO $pgwarden$ BEGIN RAISE EXCEPTION USING ERRCODE = '08006', MESSAGE = "
                    + "'pgwarden: the server connection was lost; the transaction was rolled back'; END $pgwarden$",
                    null, null);
        } else if (openTransactionToRestore) {
            link.hidden().query("BEGIN", null, null);
        }
        openTransactionToRestore = false;
    }

    /**
     * The error for what a lost backend took with it: PostgreSQL's own code and message when it said why it
     * ended the session (so drivers raise what they would directly: AdminShutdown, IdleInTransactionSessionTimeout,
     * ...), pgwarden's 08006 when the connection just ended; what it means for the client is in the detail.
     */
    static ErrorResponse lostConnectionError(BackendConnection lost, String consequence) {
        ErrorResponse cause = lost.fatal();
        if (cause == null || cause.sqlstate() == null || cause.message() == null) {
            return ErrorResponse.error("08006", "pgwarden: the server connection was lost; " + consequence)
                    .withHint(HINT);
        }
        return ErrorResponse.error(cause.sqlstate(), cause.message())
                .withDetail("pgwarden: the server connection was lost; " + consequence + ".").withHint(HINT);
    }

    static String describe(BackendConnection lost) {
        return (lost.lossReason() != null ? lost.lossReason().description() : "closed") + ": " + lost.closeReason();
    }

    void close() {
        replay.close();
        readOnly.close();
    }
}
