package io.pgwarden.session;

import io.pgwarden.config.ClientSettings;
import io.pgwarden.config.PoolSettings;
import java.time.Duration;

/**
 * Every client timeout as one pure decision: given the time, the client's state and clock readings and the
 * settings in force, the one thing to do now. The janitor applies it and asks again until there is nothing to do,
 * so two deadlines passed in the same round (a warning and a kill) both act in that round.
 */
final class ClientTimeouts {

    enum Action {
        NONE,
        /** query_wait_notice: tell the waiting client why it waits. */
        WAIT_NOTICE,
        /** query_wait_timeout: answer the queued requests with 53300. */
        WAIT_TIMEOUT,
        /** query_wait_notice during a failover: tell the held client that no host fits yet. */
        FAILOVER_NOTICE,
        /** failover_timeout: answer the queued requests with 08001, naming each host and its last answer. */
        FAILOVER_TIMEOUT,
        /** client.login_timeout: close with 08P01. */
        LOGIN_TIMEOUT,
        /** client.idle_in_transaction_warning: log it once per transaction. */
        IDLE_IN_TRANSACTION_WARNING,
        /** client.idle_in_transaction_timeout: close with 25P03. */
        IDLE_IN_TRANSACTION_KILL,
        /** query_timeout: cancel the running request on the server. */
        QUERY_CANCEL,
        /** client.idle_timeout: close with 57P05. */
        IDLE_KILL
    }

    /**
     * The client's database has no host matching target_session_attrs since {@code sinceNanos}: a waiting client is
     * held up to {@code timeout} (failover_timeout) from the later of its wait's start and the failover's start,
     * instead of query_wait_timeout. Counting from the failover's start gives a client that was already waiting in a
     * full pool the whole failover_timeout; counting from the wait's start gives one arriving late the same.
     */
    record Hold(long sinceNanos, Duration timeout) {

        long deadlineNanos(SessionTimes t) {
            return Math.max(t.waitStart, sinceNanos) + timeout.toNanos();
        }
    }

    private ClientTimeouts() {
    }

    static Action decide(long now, ClientState state, SessionTimes t, PoolSettings settings, boolean loggedInPool) {
        return decide(now, state, t, settings, loggedInPool, null);
    }

    /**
     * @param settings the client's database's settings, or the defaults while no database is known
     * @param loggedInPool false for clients with no pool (logging in, or the admin console)
     * @param hold non-null while the client's database is in a failover
     */
    static Action decide(long now, ClientState state, SessionTimes t, PoolSettings settings, boolean loggedInPool,
                         Hold hold) {
        ClientSettings client = settings.client();
        if (state.isWaiting() && loggedInPool && hold != null) {
            if (now - hold.deadlineNanos(t) > 0) {
                return Action.FAILOVER_TIMEOUT;
            }
            return state == ClientState.WAITING && !t.failoverNoticeSent
                    && passed(now - t.waitStart, settings.queryWaitNotice()) ? Action.FAILOVER_NOTICE : Action.NONE;
        }
        if (state.isWaiting() && loggedInPool && now - t.waitClockStart > settings.queryWaitTimeout().toNanos()) {
            return Action.WAIT_TIMEOUT;
        }
        if (!state.isLoggedIn()) {
            return state != ClientState.LOGIN_WAITING && state != ClientState.CLOSED
                    && passed(now - t.connectedAt, client.loginTimeout()) ? Action.LOGIN_TIMEOUT : Action.NONE;
        }
        if (!loggedInPool) {
            return Action.NONE;
        }
        long quietFor = now - t.lastActivity;
        return switch (state) {
            case WAITING -> !t.waitNoticeSent && passed(now - t.waitStart, settings.queryWaitNotice())
                    ? Action.WAIT_NOTICE : Action.NONE;
            case IN_TRANSACTION, FAILED_TRANSACTION -> {
                if (t.warnedForTransactionAt != t.transactionStart
                        && passed(quietFor, client.idleInTransactionWarning())) {
                    yield Action.IDLE_IN_TRANSACTION_WARNING;
                }
                yield passed(quietFor, client.idleInTransactionTimeout()) ? Action.IDLE_IN_TRANSACTION_KILL
                        : Action.NONE;
            }
            case ACTIVE -> !t.queryCancelSent && passed(now - t.requestStart, settings.queryTimeout())
                    ? Action.QUERY_CANCEL : Action.NONE;
            case IDLE -> passed(quietFor, client.idleTimeout()) ? Action.IDLE_KILL : Action.NONE;
            default -> Action.NONE;
        };
    }

    /** A zero limit is switched off. */
    private static boolean passed(long elapsedNanos, Duration limit) {
        return !limit.isZero() && elapsedNanos > limit.toNanos();
    }
}
