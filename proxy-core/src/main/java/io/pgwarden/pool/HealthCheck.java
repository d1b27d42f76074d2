package io.pgwarden.pool;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.LossReason;
import io.pgwarden.config.ServerSettings;
import io.pgwarden.metrics.ProxyMetrics;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the check query on an idle backend: it passes only if PostgreSQL answers without error and ends idle
 * within the check timeout. A backend that fails is closed, and never handed to a client.
 */
final class HealthCheck {

    private HealthCheck() {
    }

    /** {@code done} runs once, on the backend's event loop, once the backend is marked verified or closing. */
    static void run(BackendConnection backend, ServerSettings server, ProxyMetrics metrics, Consumer<Boolean> done) {
        OneShotQuery.send(backend, BackendConnection::toTesting, List.of(server.checkQuery()), server.checkTimeout(),
                healthy -> {
                    metrics.healthCheck(healthy);
                    if (healthy) {
                        backend.markVerified();
                    } else {
                        backend.close(LossReason.HEALTH_CHECK_FAILED, "no healthy answer to the check query within "
                                + server.checkTimeout().toMillis() + " ms");
                    }
                    done.accept(healthy);
                });
    }
}
