package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import io.pgwarden.harness.ScriptedClient;
import io.pgwarden.harness.Wire;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.pool.BackendPool;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Client timeouts as the janitor enforces them, each at the exact nanosecond it is due: the janitor is called with
 * chosen clock values, counted from the session's own clock readings, so nothing depends on how fast the test runs.
 */
class JanitorTimeoutsTest {

    private static final long NANO = 1;

    @Test
    void idleInTransactionIsWarnedOnceThenTheClientIsClosedAndItsBackendRolledBack() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                client:
                  idle_in_transaction_warning: 10s
                  idle_in_transaction_timeout: 20s
                """)) {
            ScriptedClient client = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            client.send(Wire.query("BEGIN"));
            backend.received();
            backend.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            client.received();
            ClientSession session = client.session();
            long quietSince = session.times.lastActivity;

            session.janitorTick(quietSince + seconds(10));
            assertThat(warnings(proxy)).isZero();
            session.janitorTick(quietSince + seconds(10) + NANO);
            assertThat(warnings(proxy)).isEqualTo(1);
            assertThat(proxy.context().events().recent().get(0).detail())
                    .isEqualTo(session + " idle in transaction for 10000 ms");
            session.janitorTick(quietSince + seconds(20));
            assertThat(warnings(proxy)).as("once per transaction").isEqualTo(1);
            assertThat(client.received()).isEmpty();
            assertThat(client.isOpen()).isTrue();

            session.janitorTick(quietSince + seconds(20) + NANO);
            assertThat(client.received()).containsExactly("ErrorResponse(FATAL 25P03: terminating connection due to "
                    + "idle-in-transaction timeout (pgwarden client.idle_in_transaction_timeout 20000 ms); the "
                    + "transaction was rolled back)", "ReadyForQuery(I)");
            assertThat(client.isOpen()).isFalse();
            assertThat(proxy.metric("pgwarden_timeouts_total{kind=\"idle_in_transaction\"}")).isEqualTo(1.0);
            assertThat(proxy.metric("pgwarden_client_closes_total{reason=\"idle_in_transaction_timeout\"}"))
                    .isEqualTo(1.0);

            assertThat(backend.received()).containsExactly("Query(ROLLBACK)");
            backend.send(Wire.commandComplete("ROLLBACK"), Wire.readyForQuery('I'));
            assertThat(proxy.pool().counts()).as("rolled back and reused")
                    .isEqualTo(new BackendPool.Counts(0, 1, 0, 0, 0, null));
        }
    }

    @Test
    void aRequestRunningPastQueryTimeoutIsCancelledOnceAndTheClientKeepsItsConnection() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                query_timeout: 5s
                """)) {
            ScriptedClient client = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            ClientSession session = client.session();
            client.send(Wire.query("SELECT pg_sleep(60)"));
            backend.received();
            long started = session.times.requestStart;

            session.janitorTick(started + seconds(5));
            assertThat(cancels(proxy)).isZero();
            session.janitorTick(started + seconds(5) + NANO);
            assertThat(cancels(proxy)).isEqualTo(1.0);
            session.janitorTick(started + seconds(60));
            assertThat(cancels(proxy)).as("once per request").isEqualTo(1.0);

            // What PostgreSQL answers once the cancel reaches it.
            backend.send(Wire.error("57014", "canceling statement due to user request"), Wire.readyForQuery('I'));
            assertThat(client.received()).containsExactly(
                    "ErrorResponse(ERROR 57014: canceling statement due to user request)", "ReadyForQuery(I)");
            assertThat(client.isOpen()).isTrue();
            assertThat(client.state()).isEqualTo(ClientState.IDLE);

            client.send(Wire.query("SELECT pg_sleep(10)"));
            assertThat(backend.received()).containsExactly("Query(SELECT pg_sleep(10))");
            long next = session.times.requestStart;
            session.janitorTick(next + seconds(5) + NANO);
            assertThat(cancels(proxy)).as("the next request has its own timeout").isEqualTo(2.0);
        }
    }

    @Test
    void aRequestWaitingPastQueryWaitTimeoutIsNoticedThenAnswered53300() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                max_size: 1
                query_wait_timeout: 30s
                query_wait_notice: 5s
                """)) {
            ScriptedClient holder = proxy.login();
            ScriptedBackend backend = proxy.backends().opened().get(0);
            holder.send(Wire.query("BEGIN"));
            backend.received();
            backend.send(Wire.commandComplete("BEGIN"), Wire.readyForQuery('T'));
            ScriptedClient waiter = proxy.login();
            ClientSession session = waiter.session();
            waiter.send(Wire.query("SELECT 1"));
            assertThat(waiter.state()).isEqualTo(ClientState.WAITING);
            long waitStart = session.times.waitStart;

            session.janitorTick(waitStart + seconds(5));
            assertThat(waiter.received()).isEmpty();
            session.janitorTick(waitStart + seconds(5) + NANO);
            assertThat(waiter.received()).containsExactly("NoticeResponse(NOTICE 00000: pgwarden: waiting for a server "
                    + "connection for 5000 ms: pool appdb/app has 1 of 1 server connections in use, 1 client waiting)");
            session.janitorTick(waitStart + seconds(30));
            assertThat(waiter.received()).isEmpty();

            session.janitorTick(waitStart + seconds(30) + NANO);
            assertThat(waiter.received()).containsExactly("ErrorResponse(ERROR 53300: pgwarden: no server connection "
                    + "available after waiting 30000 ms (query_wait_timeout 30000 ms): pool appdb/app has 1 of 1 server "
                    + "connections in use, 1 client waiting)", "ReadyForQuery(I)");
            assertThat(waiter.state()).isEqualTo(ClientState.IDLE);
            assertThat(waiter.isOpen()).isTrue();
            assertThat(proxy.metric("pgwarden_timeouts_total{kind=\"query_wait\"}")).isEqualTo(1.0);

            holder.send(Wire.query("COMMIT"));
            backend.send(Wire.commandComplete("COMMIT"), Wire.readyForQuery('I'));
            assertThat(backend.received()).as("the answered request is not sent after all")
                    .containsExactly("Query(COMMIT)");
            assertThat(proxy.pool().counts()).isEqualTo(new BackendPool.Counts(0, 1, 0, 0, 0, null));
        }
    }

    @Test
    void aLoginNotCompletedInTimeIsClosedByTheGlobalLimitUntilTheStartupMessageNamesTheDatabase() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                client:
                  login_timeout: 500ms
                """)) {
            ScriptedClient silent = proxy.connect();
            long silentSince = silent.session().times.connectedAt;
            silent.session().janitorTick(silentSince + millis(500) + NANO);
            assertThat(silent.isOpen()).as("no database named yet: the global 60 s apply").isTrue();
            silent.session().janitorTick(silentSince + seconds(60));
            assertThat(silent.isOpen()).isTrue();
            silent.session().janitorTick(silentSince + seconds(60) + NANO);
            assertThat(silent.received()).containsExactly("ErrorResponse(FATAL 08P01: pgwarden: login not completed "
                    + "within client.login_timeout (60000 ms))");
            assertThat(silent.isOpen()).isFalse();

            ScriptedClient stalled = proxy.connect();
            stalled.send(Wire.startup(java.util.Map.of("user", ProxyHarness.USER, "database", ProxyHarness.DATABASE)));
            assertThat(stalled.received()).containsExactly("Authentication(3)");
            long stalledSince = stalled.session().times.connectedAt;
            stalled.session().janitorTick(stalledSince + millis(500));
            assertThat(stalled.isOpen()).isTrue();
            stalled.session().janitorTick(stalledSince + millis(500) + NANO);
            assertThat(stalled.received()).containsExactly("ErrorResponse(FATAL 08P01: pgwarden: login not completed "
                    + "within client.login_timeout (500 ms))");
            assertThat(stalled.isOpen()).isFalse();
            assertThat(proxy.metric("pgwarden_timeouts_total{kind=\"login\"}")).isEqualTo(2.0);
            assertThat(proxy.metric("pgwarden_client_closes_total{reason=\"login_timeout\"}")).isEqualTo(2.0);
        }
    }

    /** The janitor runs every 100 ms; idle clients, which only client.idle_timeout can end, every tenth round. */
    @Test
    void anIdleClientIsLookedAtOnEveryTenthJanitorRound() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                client:
                  idle_timeout: 60s
                """)) {
            ScriptedClient client = proxy.login();
            ClientSession session = client.session();
            SessionRegistry sessions = proxy.context().sessions();
            long due = session.times.lastActivity + seconds(60) + NANO;
            // Round 1: watched since its login, it is found idle and left to the sweep.
            sessions.tick(session.eventLoop(), due - NANO);
            for (int round = 2; round <= 9; round++) {
                sessions.tick(session.eventLoop(), due);
                assertThat(client.isOpen()).as("round %d", round).isTrue();
            }
            sessions.tick(session.eventLoop(), due);
            assertThat(client.received()).containsExactly("ErrorResponse(FATAL 57P05: terminating connection due to "
                    + "idle-session timeout (pgwarden client.idle_timeout 60000 ms))",
                    "ReadyForQuery(I)");
            assertThat(client.isOpen()).isFalse();
        }
    }

    private static long seconds(long n) {
        return Duration.ofSeconds(n).toNanos();
    }

    private static long millis(long n) {
        return Duration.ofMillis(n).toNanos();
    }

    private static long warnings(ProxyHarness proxy) {
        return proxy.context().events().recent().stream().map(EventLog.Event::kind)
                .filter("idle_in_transaction"::equals).count();
    }

    private static double cancels(ProxyHarness proxy) {
        return proxy.metric("pgwarden_timeouts_total{kind=\"query\"}");
    }
}
