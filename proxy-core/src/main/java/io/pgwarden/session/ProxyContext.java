package io.pgwarden.session;

import io.pgwarden.backend.CancelForwarder;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.frontend.Credentials;
import io.pgwarden.pool.PoolRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/** What every client session shares, built once in {@link io.pgwarden.ProxyApplication}. */
public record ProxyContext(ProxyConfig config, PoolRegistry pools, Credentials credentials,
                           CancelRegistry cancelRegistry, CancelForwarder cancelForwarder, StatementNames statementNames,
                           AtomicInteger clientCount, int maxMessageLength) {
}
