package io.pgwarden.session;

import static io.pgwarden.session.ClientTimeouts.Action.FAILOVER_NOTICE;
import static io.pgwarden.session.ClientTimeouts.Action.FAILOVER_TIMEOUT;
import static io.pgwarden.session.ClientTimeouts.Action.IDLE_IN_TRANSACTION_KILL;
import static io.pgwarden.session.ClientTimeouts.Action.IDLE_IN_TRANSACTION_WARNING;
import static io.pgwarden.session.ClientTimeouts.Action.IDLE_KILL;
import static io.pgwarden.session.ClientTimeouts.Action.LOGIN_TIMEOUT;
import static io.pgwarden.session.ClientTimeouts.Action.NONE;
import static io.pgwarden.session.ClientTimeouts.Action.QUERY_CANCEL;
import static io.pgwarden.session.ClientTimeouts.Action.WAIT_NOTICE;
import static io.pgwarden.session.ClientTimeouts.Action.WAIT_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.ClientSettings;
import io.pgwarden.config.Keepalive;
import io.pgwarden.config.PoolMode;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.config.ServerSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Every client timeout decided with plain numbers: no clock, no sockets, no waiting. */
class ClientTimeoutsTest {

    private static final long MS = 1_000_000;
    /** idle_timeout 10 s, idle_in_transaction timeout 5 s and warning 1 s, login 2 s; query 3 s, wait 4 s, notice 500 ms. */
    private static final PoolSettings SETTINGS = new PoolSettings(PoolMode.TRANSACTION, 0, 10,
            Duration.ofSeconds(4), "DISCARD ALL", 100, ServerSettings.defaults(),
            new ClientSettings(Keepalive.defaults(), Duration.ofSeconds(10), Duration.ofSeconds(5),
                    Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(1)),
            Duration.ofSeconds(3), Duration.ofMillis(500));
    private static final PoolSettings ALL_OFF = new PoolSettings(PoolMode.TRANSACTION, 0, 10,
            Duration.ofSeconds(4), "DISCARD ALL", 100, ServerSettings.defaults(),
            new ClientSettings(Keepalive.defaults(), Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(2),
                    Duration.ZERO),
            Duration.ZERO, Duration.ZERO);

    private final SessionTimes t = new SessionTimes(0);

    @Test
    void aClientThatHasNotLoggedInByLoginTimeoutIsClosed() {
        assertThat(ClientTimeouts.decide(2_000 * MS, ClientState.AUTHENTICATING, t, SETTINGS, false)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(2_001 * MS, ClientState.AUTHENTICATING, t, SETTINGS, false))
                .isEqualTo(LOGIN_TIMEOUT);
        assertThat(ClientTimeouts.decide(2_001 * MS, ClientState.STARTUP, t, SETTINGS, false)).isEqualTo(LOGIN_TIMEOUT);
        // Waiting for a backend to finish its login is the pool's wait, bounded by query_wait_timeout instead.
        assertThat(ClientTimeouts.decide(3_000 * MS, ClientState.LOGIN_WAITING, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(4_001 * MS, ClientState.LOGIN_WAITING, t, SETTINGS, true))
                .isEqualTo(WAIT_TIMEOUT);
    }

    @Test
    void aWaitingClientGetsANoticeOnceThenTheWaitTimeoutCountedFromItsClock() {
        t.waitBegins(1_000 * MS);
        assertThat(ClientTimeouts.decide(1_400 * MS, ClientState.WAITING, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(1_501 * MS, ClientState.WAITING, t, SETTINGS, true)).isEqualTo(WAIT_NOTICE);
        t.waitNoticeSent = true;
        assertThat(ClientTimeouts.decide(1_600 * MS, ClientState.WAITING, t, SETTINGS, true)).isEqualTo(NONE);
        // A paused pool moves the clock the timeout counts from (the notice still counts from the wait's start).
        t.waitClockStart = 3_000 * MS;
        assertThat(ClientTimeouts.decide(5_500 * MS, ClientState.WAITING, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(7_001 * MS, ClientState.WAITING, t, SETTINGS, true)).isEqualTo(WAIT_TIMEOUT);
    }

    @Test
    void duringAFailoverTheWaitIsBoundedByFailoverTimeoutFromTheLaterOfTheWaitAndTheFailover() {
        ClientTimeouts.Hold hold = new ClientTimeouts.Hold(2_000 * MS, Duration.ofSeconds(30));
        t.waitBegins(1_000 * MS);
        t.waitNoticeSent = true;
        // Past query_wait_timeout (4 s from the wait's start), but held: told once that a failover is in progress.
        assertThat(ClientTimeouts.decide(5_001 * MS, ClientState.WAITING, t, SETTINGS, true, hold))
                .isEqualTo(FAILOVER_NOTICE);
        t.failoverNoticeSent = true;
        assertThat(ClientTimeouts.decide(31_999 * MS, ClientState.WAITING, t, SETTINGS, true, hold)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(32_001 * MS, ClientState.WAITING, t, SETTINGS, true, hold))
                .isEqualTo(FAILOVER_TIMEOUT);
        // A client that began waiting after the failover began gets its whole failover_timeout too.
        t.waitBegins(10_000 * MS);
        t.failoverNoticeSent = true;
        assertThat(ClientTimeouts.decide(39_999 * MS, ClientState.WAITING, t, SETTINGS, true, hold)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(40_001 * MS, ClientState.LOGIN_WAITING, t, SETTINGS, true, hold))
                .isEqualTo(FAILOVER_TIMEOUT);
    }

    @Test
    void anIdleTransactionIsWarnedOnceThenKilled() {
        t.transactionStart = 100 * MS;
        t.lastActivity = 200 * MS;
        assertThat(ClientTimeouts.decide(1_100 * MS, ClientState.IN_TRANSACTION, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(1_201 * MS, ClientState.IN_TRANSACTION, t, SETTINGS, true))
                .isEqualTo(IDLE_IN_TRANSACTION_WARNING);
        t.warnedForTransactionAt = t.transactionStart;
        assertThat(ClientTimeouts.decide(3_000 * MS, ClientState.FAILED_TRANSACTION, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(5_201 * MS, ClientState.FAILED_TRANSACTION, t, SETTINGS, true))
                .isEqualTo(IDLE_IN_TRANSACTION_KILL);
        // The next transaction is warned again.
        t.transactionStart = 6_000 * MS;
        assertThat(ClientTimeouts.decide(5_300 * MS, ClientState.IN_TRANSACTION, t, SETTINGS, true))
                .isEqualTo(IDLE_IN_TRANSACTION_WARNING);
    }

    @Test
    void aRunningRequestIsCancelledOnceAfterQueryTimeout() {
        t.lastActivity = 1_000 * MS;
        t.requestBegins();
        assertThat(ClientTimeouts.decide(4_000 * MS, ClientState.ACTIVE, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(4_001 * MS, ClientState.ACTIVE, t, SETTINGS, true)).isEqualTo(QUERY_CANCEL);
        t.queryCancelSent = true;
        assertThat(ClientTimeouts.decide(9_000 * MS, ClientState.ACTIVE, t, SETTINGS, true)).isEqualTo(NONE);
    }

    @Test
    void anIdleClientIsClosedAfterIdleTimeoutButNotTheAdminConsole() {
        t.lastActivity = 1_000 * MS;
        assertThat(ClientTimeouts.decide(11_000 * MS, ClientState.IDLE, t, SETTINGS, true)).isEqualTo(NONE);
        assertThat(ClientTimeouts.decide(11_001 * MS, ClientState.IDLE, t, SETTINGS, true)).isEqualTo(IDLE_KILL);
        assertThat(ClientTimeouts.decide(11_001 * MS, ClientState.IDLE, t, SETTINGS, false)).isEqualTo(NONE);
    }

    @Test
    void zeroSwitchesATimeoutOff() {
        t.lastActivity = 0;
        t.requestBegins();
        long hourLater = 3_600_000 * MS;
        for (ClientState state : new ClientState[] {ClientState.IDLE, ClientState.ACTIVE, ClientState.IN_TRANSACTION}) {
            assertThat(ClientTimeouts.decide(hourLater, state, t, ALL_OFF, true)).as("%s", state).isEqualTo(NONE);
        }
        assertThat(ClientTimeouts.decide(hourLater, ClientState.CLOSED, t, SETTINGS, true)).isEqualTo(NONE);
    }
}
