package io.pgwarden.session;

import io.pgwarden.backend.CancelForwarder;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.pool.PoolRegistry;

/** What every client session shares, built once in {@link io.pgwarden.ProxyApplication}. */
public record ProxyContext(ConfigHolder configHolder, PoolRegistry pools, CancelRegistry cancelRegistry,
                           CancelForwarder cancelForwarder, StatementNames statementNames, SessionRegistry sessions,
                           EventLog events, ProxyMetrics metrics) {

    /** The configuration in force now; RELOAD swaps it as a whole. */
    public ProxyConfig config() {
        return configHolder.get();
    }
}
