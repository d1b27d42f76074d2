package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgwarden.it.FailoverWorkload.Commit;
import io.pgwarden.it.FailoverWorkload.Timeline;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 acceptance 2: the primary crashes (SIGQUIT, nothing sent on the way out) and the standby is promoted
 * 3 s later, under 50 transaction-mode pgjdbc clients writing through pgwarden. Clients that sat between
 * transactions see nothing; clients that asked for something in the 3 s get their answer after the promotion.
 *
 * <p>pgwarden holds those requests for {@code query_wait_timeout}, set to 20 s here: the test does not rely on
 * {@code failover_timeout} holding them. A is made to wait for B's flush before acknowledging a commit
 * ({@code synchronous_standby_names}), as a Patroni cluster with synchronous_mode does: with asynchronous
 * replication a crash loses the commits that had not yet reached the standby, whatever sits in front of it, and the
 * lost-write check would test PostgreSQL's replication rather than pgwarden.
 */
class CrashFailoverTest {

    @Test
    void idleClientsSeeNothingAndWaitingRequestsCompleteOnThePromotedStandby() throws Exception {
        try (ReplicatedPostgres cluster = ReplicatedPostgres.start();
             TestProxy proxy = FailoverWorkload.proxyFor(cluster)) {
            try (Connection c = cluster.superuser(cluster.a()); Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET synchronous_standby_names = 'node_b'");
                s.execute("SELECT pg_reload_conf()");
            }
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                try (Connection c = cluster.superuser(cluster.a()); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_replication "
                             + "WHERE application_name = 'node_b' AND sync_state = 'sync'")) {
                    rs.next();
                    return rs.getInt(1) == 1;
                }
            });
            Timeline timeline;
            FailoverWorkload workload = FailoverWorkload.start(proxy, 50, 10, 50);
            try (workload) {
                workload.runAndAwaitEveryClientCommittedSince(System.nanoTime(), Duration.ofSeconds(3),
                        Duration.ofSeconds(30));
                timeline = workload.failOver(cluster, cluster::stopImmediate, Duration.ofSeconds(3));
                workload.runAndAwaitEveryClientCommittedSince(timeline.promoted(), Duration.ofSeconds(3),
                        Duration.ofSeconds(30));
            }
            Commit first = workload.firstCommitWrittenBy(cluster, cluster.b(), timeline.stopBegan());
            String summary = workload.summary("crash failover", timeline, first);
            System.out.println("crash failover " + workload.details(timeline));
            List<Commit> waited = workload.commits().stream()
                    .filter(c -> c.beganNanos() > timeline.stopBegan() && c.beganNanos() < timeline.promoteBegan()
                            && c.ackNanos() > timeline.promoted())
                    .toList();
            System.out.println(summary + ", " + waited.size() + " transactions asked for without a primary "
                    + "completed after the promotion (longest " + waited.stream().mapToLong(Commit::latencyMillis)
                    .max().orElse(0) + " ms)");

            assertThat(workload.unexplainedFailures(timeline)).as(summary).isEmpty();
            assertThat(waited).as("transactions begun after the crash, answered after the promotion").isNotEmpty();
            assertThat(workload.acknowledgedMissingOn(cluster, cluster.b()))
                    .as("acknowledged commits missing on the promoted standby (replication was synchronous)")
                    .isEmpty();
            assertThat(first).as("a commit on B").isNotNull();
            assertThat(FailoverWorkload.millis(first.ackNanos() - timeline.promoted()))
                    .as("promotion to the first commit on B").isLessThan(10_000);
        }
    }
}
