package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.metrics.ServerLossMoment;
import io.pgwarden.protocol.ErrorResponse;
import java.util.List;
import java.util.Map;

/**
 * What a client's lost backend means for it, decided in one place: replay what provably never ran, answer what
 * was owed with one clean error, or close a session that cannot be rebuilt; and, on the next backend, what must
 * be recreated first (the session's statements, a transaction that has already failed).
 */
final class ServerLossRecovery {

    /** What the session does about a lost backend. */
    sealed interface Outcome permits Replay, AnswerOwed, Quiet, Close {
    }

    /** Nothing of these requests ran: send them again, first in line, on another backend. */
    record Replay(List<ByteBuf> requests) implements Outcome {
    }

    /** Everything the client is owed gets {@code error}, and ReadyForQuery with {@code status}. */
    record AnswerOwed(ErrorResponse error, TransactionStatus status) implements Outcome {
    }

    /** Nothing was owed: an open transaction is reported at the client's next request. */
    record Quiet() implements Outcome {
    }

    /** The session cannot be rebuilt on a new backend. */
    record Close(ErrorResponse fatal) implements Outcome {
    }

    private static final Quiet QUIET = new Quiet();

    private final ReplayWindow replay = new ReplayWindow();
    /** The backend died in the client's transaction: the next link first recreates a failed transaction. */
    private boolean failedTransactionToRestore;
    /** The backend died while the client sat in a transaction: its next request gets the 08006 error. */
    private boolean lostTransactionError;
    /** Session mode: the next backend gets the session's statements first. */
    private boolean restoreOnLink;

    ReplayWindow replay() {
        return replay;
    }

    Outcome onLoss(BackendConnection dead, boolean inTransaction, boolean owedNothing, SessionState session) {
        if (replay.nothingRanOn(dead)) {
            return new Replay(replay.take());
        }
        replay.close();
        if (session != null && session.unrestorableBecause() != null) {
            return new Close(ErrorResponse.fatal("08006", "pgwarden: the server connection was lost ("
                    + describe(dead) + ") and this session cannot be restored on a new one: "
                    + session.unrestorableBecause()));
        }
        restoreOnLink = session != null;
        failedTransactionToRestore |= inTransaction;
        if (owedNothing) {
            lostTransactionError = inTransaction;
            return QUIET;
        }
        return new AnswerOwed(lostConnectionError(inTransaction ? "the transaction was rolled back"
                : "the request may or may not have been executed"),
                inTransaction ? TransactionStatus.FAILED_TRANSACTION : TransactionStatus.IDLE);
    }

    /** What the client was doing when it lost its backend, for the metrics; null when it was idle. */
    ServerLossMoment moment(boolean inTransaction, boolean owedNothing) {
        if (owedNothing) {
            return inTransaction ? ServerLossMoment.IDLE_IN_TRANSACTION : null;
        }
        return replay.syncAnswered() ? ServerLossMoment.REQUEST_AFTER_CHECK : ServerLossMoment.REQUEST_UNCHECKED;
    }

    /** Whether the client's next request must get the lost transaction's error (once). */
    boolean takeLostTransactionError() {
        boolean owed = lostTransactionError;
        lostTransactionError = false;
        return owed;
    }

    /**
     * On a new backend after a loss: the session's prepared statements (session mode), then a transaction that
     * has already failed, so the client's ROLLBACK (or anything else) gets exactly PostgreSQL's answer.
     */
    void restoreOn(BackendLink link, SessionState session) {
        if (restoreOnLink && session != null && !session.statements().isEmpty()) {
            for (Map.Entry<String, byte[]> statement : session.statements().entrySet()) {
                link.sendHiddenParse(statement.getKey(), statement.getValue());
            }
            // Its own Sync, so a statement that no longer parses cannot make the server skip the client's requests.
            link.sendHiddenSync(null, null);
        }
        restoreOnLink = false;
        if (failedTransactionToRestore) {
            failedTransactionToRestore = false;
            link.sendHidden("BEGIN; DO $pgwarden$ BEGIN RAISE EXCEPTION USING ERRCODE = '08006', MESSAGE = "
                    + "'pgwarden: the server connection was lost; the transaction was rolled back'; END $pgwarden$",
                    null, null);
        }
    }

    static ErrorResponse lostConnectionError(String consequence) {
        return ErrorResponse.error("08006", "pgwarden: the server connection was lost; " + consequence)
                .withHint("The client keeps its connection to pgwarden; its next transaction runs on a new server "
                        + "connection.");
    }

    static String describe(BackendConnection lost) {
        return (lost.lossReason() != null ? lost.lossReason().description() : "closed") + ": " + lost.closeReason();
    }

    void close() {
        replay.close();
    }
}
