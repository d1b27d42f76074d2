package io.pgwarden.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.backend.ScriptedBackend;
import io.pgwarden.harness.ProxyHarness;
import org.junit.jupiter.api.Test;

/** min_size is kept from the moment a backend is lost, not from the janitor's next round. */
class MinSizeRefillTest {

    @Test
    void anIdleBackendTerminatedByPostgresIsReplacedAtOnce() {
        try (ProxyHarness proxy = ProxyHarness.start("""
                pool_mode: transaction
                min_size: 3
                max_size: 5
                """)) {
            assertThat(proxy.backends().dialsPending()).as("opened at start").isEqualTo(3);
            for (int i = 0; i < 3; i++) {
                proxy.backends().accept();
            }
            BackendPool pool = proxy.pool();
            assertThat(pool.counts()).isEqualTo(new BackendPool.Counts(0, 3, 0, 0, 0, null));

            ScriptedBackend killed = proxy.backends().opened().get(1);
            killed.terminate("57P01", "terminating connection due to administrator command");
            assertThat(pool.counts()).as("the FATAL took it out of the pool, and its replacement is opening")
                    .isEqualTo(new BackendPool.Counts(0, 2, 0, 1, 0, null));
            assertThat(proxy.backends().dialsPending()).isEqualTo(1);
            proxy.backends().accept();
            assertThat(pool.counts()).isEqualTo(new BackendPool.Counts(0, 3, 0, 0, 0, null));
            assertThat(proxy.metric("pgwarden_backend_losses_total{reason=\"terminated_by_administrator\"}"))
                    .isEqualTo(1.0);
        }
    }
}
