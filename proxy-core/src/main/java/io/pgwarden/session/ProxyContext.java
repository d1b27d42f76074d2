package io.pgwarden.session;

import io.pgwarden.backend.CancelForwarder;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.admin.AdminConsole;
import io.pgwarden.frontend.Credentials;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.pool.PoolRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/** What every client session shares, built once in {@link io.pgwarden.ProxyApplication}. */
public record ProxyContext(ConfigHolder configHolder, PoolRegistry pools, Credentials credentials,
                           CancelRegistry cancelRegistry, CancelForwarder cancelForwarder, StatementNames statementNames,
                           AtomicInteger clientCount, int maxMessageLength, SessionRegistry sessions, EventLog events,
                           ProxyMetrics metrics, java.util.function.Supplier<AdminConsole> adminConsole) {

    /** The configuration in force now; RELOAD swaps it as a whole. */
    public ProxyConfig config() {
        return configHolder.get();
    }
}
