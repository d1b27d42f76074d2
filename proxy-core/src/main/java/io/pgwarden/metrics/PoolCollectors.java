package io.pgwarden.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Registers the callback metrics that are read from {@link PoolView}s and loss totals at scrape time.
 *
 * <p>Callbacks rather than stateful gauges/counters: the pools already own these numbers, and copying them
 * into the registry on every change would cost hot-path work and could drift. The price is that the
 * supplier is invoked once per metric family per scrape, so it must be cheap and thread-safe.
 */
final class PoolCollectors {

    private static final String[] POOL_LABELS = {"database", "user"};

    private final Supplier<List<PoolView>> pools;

    private PoolCollectors(Supplier<List<PoolView>> pools) {
        this.pools = pools;
    }

    static void register(PrometheusRegistry registry, Supplier<List<PoolView>> pools,
                         Supplier<Map<String, Long>> lossesByReason) {
        new PoolCollectors(pools).registerAll(registry, lossesByReason);
    }

    private void registerAll(PrometheusRegistry registry, Supplier<Map<String, Long>> lossesByReason) {
        GaugeWithCallback.builder()
                .name("pgwarden_clients")
                .help("Client connections by state")
                .labelNames("database", "user", "state")
                .callback(cb -> forEachPool(p -> {
                    cb.call(p.clientsActive(), db(p), user(p), "active");
                    cb.call(p.clientsIdle(), db(p), user(p), "idle");
                    cb.call(p.clientsIdleInTransaction(), db(p), user(p), "idle_in_transaction");
                    cb.call(p.clientsWaiting(), db(p), user(p), "waiting");
                }))
                .register(registry);
        GaugeWithCallback.builder()
                .name("pgwarden_servers")
                .help("Server (backend) connections by state")
                .labelNames("database", "user", "state")
                .callback(cb -> forEachPool(p -> {
                    cb.call(p.serversActive(), db(p), user(p), "active");
                    cb.call(p.serversIdle(), db(p), user(p), "idle");
                    cb.call(p.serversTesting(), db(p), user(p), "testing");
                    cb.call(p.serversOpening(), db(p), user(p), "opening");
                }))
                .register(registry);
        poolGauge(registry, "pgwarden_pool_max_size", "Configured maximum server connections of the pool",
                PoolView::maxSize);
        poolGauge(registry, "pgwarden_client_longest_wait_seconds",
                "How long the longest-waiting client of the pool has waited", p -> p.longestWaitMillis() / 1000.0);
        poolGauge(registry, "pgwarden_pool_paused", "1 if the pool is paused, else 0", p -> p.paused() ? 1 : 0);
        poolCounter(registry, "pgwarden_transactions_total", "Transactions completed", PoolView::transactions);
        poolCounter(registry, "pgwarden_queries_total", "Queries completed", PoolView::queries);
        poolCounter(registry, "pgwarden_bytes_received_total", "Bytes received from clients", PoolView::bytesIn);
        poolCounter(registry, "pgwarden_bytes_sent_total", "Bytes sent to clients", PoolView::bytesOut);
        CounterWithCallback.builder()
                .name("pgwarden_backend_losses_total")
                .help("Server connections lost, by reason")
                .labelNames("reason")
                .callback(cb -> {
                    Map<String, Long> losses = lossesByReason.get();
                    if (losses != null) {
                        losses.forEach((reason, count) -> cb.call(count == null ? 0 : count, orUnknown(reason)));
                    }
                })
                .register(registry);
    }

    private void poolGauge(PrometheusRegistry registry, String name, String help, ToDoubleFunction<PoolView> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(POOL_LABELS)
                .callback(cb -> forEachPool(p -> cb.call(value.applyAsDouble(p), db(p), user(p))))
                .register(registry);
    }

    private void poolCounter(PrometheusRegistry registry, String name, String help, ToDoubleFunction<PoolView> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames(POOL_LABELS)
                .callback(cb -> forEachPool(p -> cb.call(value.applyAsDouble(p), db(p), user(p))))
                .register(registry);
    }

    private void forEachPool(Consumer<PoolView> action) {
        List<PoolView> views = pools.get();
        if (views != null) {
            views.forEach(action);
        }
    }

    private static String db(PoolView p) {
        return orUnknown(p.database());
    }

    private static String user(PoolView p) {
        return orUnknown(p.user());
    }

    // Label values must not be null; a null would fail the whole scrape, so it is reported as "unknown".
    static String orUnknown(String value) {
        return value == null ? "unknown" : value;
    }
}
