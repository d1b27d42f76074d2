package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.pool.BackendPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The pool knows how long its longest-waiting client has waited, without asking every client. */
class WaitingClientsTest {

    @Test
    void theLongestWaitGrowsWhileAClientQueuesBehindAFullPoolAndIsZeroOnceItIsServed() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 30s");
             Connection holder = proxy.connect(); Connection waiter = proxy.connect()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1");
            BackendPool pool = proxy.application().pools().pools().stream()
                    .filter(p -> p.key().user().equals("app")).findFirst().orElseThrow();
            assertThat(pool.longestWaitNanos(System.nanoTime())).isZero();

            CompletableFuture<Integer> queued = CompletableFuture.supplyAsync(() -> {
                try (Statement s = waiter.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> pool.longestWaitNanos(System.nanoTime()) > TimeUnit.MILLISECONDS.toNanos(300));
            assertThat(queued).isNotDone();

            holder.commit();
            assertThat(queued.get(10, TimeUnit.SECONDS)).isEqualTo(7);
            assertThat(pool.longestWaitNanos(System.nanoTime())).isZero();
        }
    }
}
