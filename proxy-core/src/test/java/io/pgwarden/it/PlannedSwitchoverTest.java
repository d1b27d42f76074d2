package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.FailoverWorkload.Commit;
import io.pgwarden.it.FailoverWorkload.Timeline;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 acceptance 1: a planned switchover (fast stop of the primary, promotion of the streaming standby, the old
 * primary kept down) under 50 transaction-mode pgjdbc clients writing in a loop through pgwarden.
 */
class PlannedSwitchoverTest {

    @Test
    void onlyTransactionsOpenOnTheOldPrimaryFailAndEveryAcknowledgedCommitIsOnTheNewOne() throws Exception {
        try (ReplicatedPostgres cluster = ReplicatedPostgres.start();
             TestProxy proxy = FailoverWorkload.proxyFor(cluster)) {
            Timeline timeline;
            FailoverWorkload workload = FailoverWorkload.start(proxy, 50, 10, 50);
            try (workload) {
                workload.runAndAwaitEveryClientCommittedSince(System.nanoTime(), Duration.ofSeconds(3),
                        Duration.ofSeconds(30));
                timeline = workload.failOver(cluster, cluster::stopFast, Duration.ZERO);
                workload.runAndAwaitEveryClientCommittedSince(timeline.promoted(), Duration.ofSeconds(3),
                        Duration.ofSeconds(30));
            }
            Commit first = workload.firstCommitWrittenBy(cluster, cluster.b(), timeline.stopBegan());
            String summary = workload.summary("planned switchover", timeline, first);
            System.out.println(summary);
            System.out.println("planned switchover " + workload.details(timeline));

            assertThat(workload.unexplainedFailures(timeline)).as(summary)
                    .isEmpty();
            assertThat(workload.acknowledgedMissingOn(cluster, cluster.b()))
                    .as("acknowledged commits missing on the new primary").isEmpty();
            // The goal is under a second; the bound leaves room for a loaded build machine.
            assertThat(first).as("a commit on B").isNotNull();
            assertThat(FailoverWorkload.millis(first.ackNanos() - timeline.promoted()))
                    .as("promotion to the first commit on B").isLessThan(10_000);
        }
    }
}
