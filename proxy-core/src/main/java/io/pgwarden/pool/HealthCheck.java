package io.pgwarden.pool;

import io.pgwarden.backend.BackendConnection;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the check query on an idle backend: it passes only if PostgreSQL answers without error and ends idle
 * within the check timeout. A backend that fails is never handed to a client.
 */
final class HealthCheck {

    private HealthCheck() {
    }

    /** {@code done} runs once, on the backend's event loop, with the verdict. */
    static void run(BackendConnection backend, String checkQuery, Duration timeout, Consumer<Boolean> done) {
        OneShotQuery.send(backend, BackendConnection::toTesting, List.of(checkQuery), timeout, done);
    }
}
