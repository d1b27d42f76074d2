package io.pgwarden.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The proxy's Prometheus metrics: event counters and the wait histogram are recorded here, pool state is
 * read from the suppliers at scrape time.
 *
 * <p>Each instance owns its own registry (not the library's default one) so that several proxies, or
 * tests, in one JVM do not collide on metric names. All methods are thread-safe.
 */
public final class ProxyMetrics {

    /**
     * Client wait ends either quickly (a free server) or after a pool's queue drains, which can take up to
     * the query_wait timeout (minutes), so the buckets span milliseconds to two minutes.
     */
    private static final double[] WAIT_BUCKETS =
            {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private static final List<String> TIMEOUT_KINDS =
            List.of("query_wait", "failover", "idle_in_transaction", "client_idle", "query", "login");

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram clientWait;
    private final Counter timeouts;
    private final Counter replayedRequests;
    private final Counter clientErrorsFromServerLoss;
    private final Counter connectAttempts;
    private final Counter healthChecks;
    private final Counter configReloads;
    private final Counter clientsKilled;
    private final Counter clientCloses;
    private final Counter authLookups;
    private final Counter loginFailures;
    private final Counter loginsThrottled;

    /**
     * @param pools called on every scrape (once per pool metric family), so it must be cheap and thread-safe
     * @param lossesByReason reason class name (e.g. "terminated_by_administrator") to total count, called on
     *     every scrape
     */
    public ProxyMetrics(Supplier<List<PoolView>> pools, Supplier<Map<String, Long>> lossesByReason) {
        Objects.requireNonNull(pools, "pools");
        Objects.requireNonNull(lossesByReason, "lossesByReason");
        // Classic buckets only: the text format cannot show native buckets, so tracking them would be waste. No
        // exemplars here or in the counters: with no tracer there are none to show, yet sampling them cost a task
        // per wait (one per transaction under a full pool) and started the sampler's thread on the first login.
        clientWait = Histogram.builder()
                .name("pgwarden_client_wait_seconds")
                .help("Time a client waited for a server connection")
                .labelNames("database", "user")
                .classicOnly()
                .classicUpperBounds(WAIT_BUCKETS)
                .withoutExemplars()
                .register(registry);
        timeouts = counter("pgwarden_timeouts_total", "Timeouts that fired, by kind", "kind");
        replayedRequests = counter("pgwarden_replayed_requests_total",
                "Requests replayed on a new server after the old one was lost before running them");
        clientErrorsFromServerLoss = counter("pgwarden_client_errors_from_server_loss_total",
                "Clients that got an 08006 error because their server was lost, by what the client was doing",
                "during");
        connectAttempts = counter("pgwarden_server_connect_attempts_total",
                "Attempts to open a server connection", "database", "result");
        healthChecks = counter("pgwarden_health_checks_total", "Server health checks", "result");
        configReloads = counter("pgwarden_config_reloads_total", "Configuration reloads", "result");
        clientsKilled = counter("pgwarden_clients_killed_total", "Client connections closed by the proxy", "reason");
        clientCloses = counter("pgwarden_client_closes_total", "Client connections ended, by reason", "reason");
        authLookups = counter("pgwarden_auth_lookups_total",
                "Users looked up for auth.query: answered from the cache (hit), asked of PostgreSQL (miss), "
                        + "no answer from PostgreSQL (error)", "result");
        List.of("hit", "miss", "error").forEach(authLookups::labelValues);
        // No address label: a guesser would choose the series' count.
        loginFailures = counter("pgwarden_login_failures_total",
                "Logins refused for a wrong password, an unknown user or a refused certificate");
        loginsThrottled = counter("pgwarden_login_throttled_total",
                "Logins held back because their address failed too many logins (listen.login_throttle)");
        // Pre-create the fixed label sets so rate() and alerts see a 0 before the first event.
        TIMEOUT_KINDS.forEach(kind -> timeouts.labelValues(kind));
        healthChecks.labelValues("passed");
        healthChecks.labelValues("failed");
        for (ServerLossMoment during : ServerLossMoment.values()) {
            clientErrorsFromServerLoss.labelValues(during.label());
        }
        configReloads.labelValues("ok");
        configReloads.labelValues("failed");
        PoolCollectors.register(registry, pools, lossesByReason);
    }

    /**
     * The failover metrics of the databases listed with several hosts; {@code clusters} is called on every scrape.
     * Apart from the constructor so that the clusters, made after the metrics, can be supplied.
     */
    public void registerClusters(Supplier<List<ClusterView>> clusters) {
        registry.register(new ClusterCollectors(clusters));
    }

    private Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars().register(registry);
    }

    /**
     * Histogram pgwarden_client_wait_seconds{database,user}: how long clients of one pool waited for a server.
     * Callers keep the series, since looking it up costs more than observing it.
     */
    public io.prometheus.metrics.core.datapoints.DistributionDataPoint waitHistogram(String database, String user) {
        return clientWait.labelValues(label(database), label(user));
    }

    /** Counter pgwarden_timeouts_total{kind}: query_wait, idle_in_transaction, client_idle, query, login. */
    public void timeoutFired(String kind) {
        timeouts.labelValues(label(kind)).inc();
    }

    /** Counter pgwarden_replayed_requests_total. */
    public void replayedRequest() {
        replayedRequests.inc();
    }

    /** Counter pgwarden_client_errors_from_server_loss_total{during}, see {@link ServerLossMoment}. */
    public void clientErrorFromServerLoss(ServerLossMoment during) {
        clientErrorsFromServerLoss.labelValues(during.label()).inc();
    }

    /** Counter pgwarden_server_connect_attempts_total{database,result="ok|failed"}. */
    public void reconnectAttempt(String database, boolean success) {
        connectAttempts.labelValues(label(database), success ? "ok" : "failed").inc();
    }

    /**
     * A pool of an auto database is gone: its series go too, or a client cycling through names would grow the
     * scrape without limit. {@code lastOfDatabase}: no other pool of that database remains to share its labels.
     */
    public void forgetPool(String database, String user, boolean lastOfDatabase) {
        clientWait.remove(label(database), label(user));
        if (lastOfDatabase) {
            connectAttempts.remove(label(database), "ok");
            connectAttempts.remove(label(database), "failed");
        }
    }

    /** Counter pgwarden_health_checks_total{result="passed|failed"}. */
    public void healthCheck(boolean passed) {
        healthChecks.labelValues(passed ? "passed" : "failed").inc();
    }

    /** Counter pgwarden_config_reloads_total{result="ok|failed"}. */
    public void configReload(boolean success) {
        configReloads.labelValues(success ? "ok" : "failed").inc();
    }

    /**
     * Counter pgwarden_clients_killed_total{reason}. The reason becomes a label value, so callers should
     * pass a small fixed vocabulary, never free text such as an error message.
     */
    public void clientKilled(String reason) {
        clientsKilled.labelValues(label(reason)).inc();
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    private static String label(String value) {
        return PoolCollectors.orUnknown(value);
    }

    /** A client connection ended; {@code reason} is its close reason's label. */
    public void clientClosed(String reason) {
        clientCloses.labelValues(reason).inc();
    }

    /** Counter pgwarden_auth_lookups_total{result="hit|miss|error"}. */
    public void authLookup(String result) {
        authLookups.labelValues(result).inc();
    }

    /** Counter pgwarden_login_failures_total. */
    public void loginFailed() {
        loginFailures.inc();
    }

    /** Counter pgwarden_login_throttled_total. */
    public void loginThrottled() {
        loginsThrottled.inc();
    }
}
