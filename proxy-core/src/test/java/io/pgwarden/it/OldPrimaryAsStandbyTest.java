package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.FailoverWorkload.Commit;
import io.pgwarden.it.FailoverWorkload.Failure;
import io.pgwarden.it.FailoverWorkload.Timeline;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 acceptance 3: after a switchover the old primary comes back as a standby of the new one, as Patroni
 * brings it back, while clients keep writing through pgwarden, which still lists it first. Nothing breaks, and
 * pgwarden never sends anything to it: no client gets 25006, every row written since the switchover says B wrote
 * it, and A never shows a session of pgwarden's user that ran a statement.
 */
class OldPrimaryAsStandbyTest {

    @Test
    void theOldPrimaryBackAsAStandbyIsNeverWrittenToAndClientsKeepWorking() throws Exception {
        try (ReplicatedPostgres cluster = ReplicatedPostgres.start();
             TestProxy proxy = FailoverWorkload.proxyFor(cluster)) {
            Timeline timeline;
            long demoted;
            AtomicBoolean sampling = new AtomicBoolean(true);
            AtomicInteger appSessionsSeenOnA = new AtomicInteger();
            AtomicInteger samples = new AtomicInteger();
            CompletableFuture<Void> sampler = null;
            FailoverWorkload workload = FailoverWorkload.start(proxy, 20, 10, 50);
            try (workload) {
                workload.runAndAwaitEveryClientCommittedSince(System.nanoTime(), Duration.ofSeconds(2),
                        Duration.ofSeconds(30));
                timeline = workload.failOver(cluster, cluster::stopFast, Duration.ZERO);
                workload.runAndAwaitEveryClientCommittedSince(timeline.promoted(), Duration.ZERO,
                        Duration.ofSeconds(30));
                sampler = CompletableFuture.runAsync(() -> sampleAppSessions(cluster, sampling, appSessionsSeenOnA,
                        samples));
                cluster.startAsStandbyOf(cluster.a(), cluster.b());
                demoted = System.nanoTime();
                workload.runAndAwaitEveryClientCommittedSince(demoted, Duration.ofSeconds(3), Duration.ofSeconds(30));
            } finally {
                sampling.set(false);
                if (sampler != null) {
                    sampler.get(30, TimeUnit.SECONDS);
                }
            }

            assertThat(cluster.isInRecovery(cluster.a())).as("A came back as a standby").isTrue();
            assertThat(workload.unexplainedFailures(timeline)).as(workload.details(timeline)).isEmpty();
            assertThat(workload.failures()).extracting(Failure::sqlState).doesNotContain("25006");
            Map<Long, Integer> writers = writerPorts(cluster);
            long afterSwitch = 0;
            for (Commit commit : workload.commits()) {
                if (commit.beganNanos() > timeline.stopEnded()) {
                    afterSwitch++;
                    assertThat(writers.get(commit.id())).as("the server that wrote row %d", commit.id())
                            .isEqualTo(cluster.port(cluster.b()));
                }
            }
            assertThat(appSessionsSeenOnA.get()).as("sessions of app that ran a statement on A, in %d samples", samples.get()).isZero();
            cluster.awaitReplayed(cluster.a());
            assertThat(FailoverWorkload.rowsByPort(cluster, cluster.a()))
                    .as("A holds exactly what it replayed from B")
                    .isEqualTo(FailoverWorkload.rowsByPort(cluster, cluster.b()));

            // A pgwarden started now, with A listed first and up, still goes to B: a standby is not read-write.
            try (TestProxy fresh = FailoverWorkload.proxyFor(cluster); Connection c = fresh.connect();
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(cluster.port(cluster.b()));
            }
            System.out.printf("old primary as standby: %d commits since the switchover, all on B; %d errors at the switchover "
                    + "(%s), none since; A back as a "
                    + "standby in %d ms; %d samples of A's pg_stat_activity, no statement of app%n", afterSwitch,
                    workload.failures().size(), workload.failures().stream().map(Failure::sqlState).toList(),
                    FailoverWorkload.millis(demoted
                            - timeline.promoted()), samples.get());
        }
    }

    /** Polls A (while it is up) for sessions of pgwarden's user that ran a statement, until told to stop. */
    private static void sampleAppSessions(ReplicatedPostgres cluster, AtomicBoolean sampling, AtomicInteger seen,
                                          AtomicInteger samples) {
        while (sampling.get()) {
            try (Connection c = cluster.superuser(cluster.a()); Statement s = c.createStatement()) {
                while (sampling.get()) {
                    // pgwarden may log in to a host that is not its target only to learn its role (the split-brain
                    // probe), and closes at once: a session that ran a statement is one a client's request reached.
                    try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                            + "AND query <> ''")) {
                        rs.next();
                        seen.addAndGet(rs.getInt(1));
                        samples.incrementAndGet();
                    }
                    pollInterval();
                }
            } catch (SQLException notUpYet) {
                // A is starting: the next connect tries again
                pollInterval();
            }
        }
    }

    private static void pollInterval() {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }

    private static Map<Long, Integer> writerPorts(ReplicatedPostgres cluster) throws SQLException {
        Map<Long, Integer> ports = new HashMap<>();
        try (Connection c = DriverManager.getConnection(cluster.url(cluster.b(), "appdb"), "app",
                TestPostgres.APP_PASSWORD); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, port FROM " + FailoverWorkload.TABLE)) {
            while (rs.next()) {
                ports.put(rs.getLong(1), rs.getInt(2));
            }
        }
        return ports;
    }
}
