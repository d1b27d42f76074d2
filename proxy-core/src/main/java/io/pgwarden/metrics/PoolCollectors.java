package io.pgwarden.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The metrics read from {@link PoolView}s at scrape time, as one collector: the pool views are built once per
 * scrape for all families (not once per family), and the pools already own these numbers, so nothing is copied
 * into the registry on the hot path.
 */
final class PoolCollectors implements MultiCollector {

    private final Supplier<List<PoolView>> pools;

    private PoolCollectors(Supplier<List<PoolView>> pools) {
        this.pools = pools;
    }

    static void register(PrometheusRegistry registry, Supplier<List<PoolView>> pools,
                         Supplier<Map<String, Long>> lossesByReason) {
        registry.register(new PoolCollectors(pools));
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

    @Override
    public MetricSnapshots collect() {
        List<PoolView> views = pools.get();
        if (views == null) {
            views = List.of();
        }
        GaugeSnapshot.Builder clients = GaugeSnapshot.builder().name("pgwarden_clients").help("Client connections by state");
        GaugeSnapshot.Builder servers = GaugeSnapshot.builder().name("pgwarden_servers")
                .help("Server (backend) connections by state");
        for (PoolView p : views) {
            clients.dataPoint(gauge(p.clientsActive(), p, "active"));
            clients.dataPoint(gauge(p.clientsIdle(), p, "idle"));
            clients.dataPoint(gauge(p.clientsIdleInTransaction(), p, "idle_in_transaction"));
            clients.dataPoint(gauge(p.clientsWaiting(), p, "waiting"));
            servers.dataPoint(gauge(p.serversActive(), p, "active"));
            servers.dataPoint(gauge(p.serversIdle(), p, "idle"));
            servers.dataPoint(gauge(p.serversTesting(), p, "testing"));
            servers.dataPoint(gauge(p.serversOpening(), p, "opening"));
        }
        return MetricSnapshots.of(clients.build(), servers.build(),
                poolGauge(views, "pgwarden_pool_max_size", "Configured maximum server connections of the pool",
                        PoolView::maxSize),
                poolGauge(views, "pgwarden_client_longest_wait_seconds",
                        "How long the longest-waiting client of the pool has waited", p -> p.longestWaitMillis() / 1000.0),
                poolGauge(views, "pgwarden_pool_paused", "1 if the pool is paused, else 0", p -> p.paused() ? 1 : 0),
                poolCounter(views, "pgwarden_transactions", "Transactions completed", PoolView::transactions),
                poolCounter(views, "pgwarden_queries", "Queries completed", PoolView::queries),
                poolCounter(views, "pgwarden_bytes_received", "Bytes received from clients", PoolView::bytesIn),
                poolCounter(views, "pgwarden_bytes_sent", "Bytes sent to clients", PoolView::bytesOut));
    }

    private static GaugeDataPointSnapshot gauge(double value, PoolView p, String state) {
        return GaugeDataPointSnapshot.builder().value(value)
                .labels(Labels.of("database", db(p), "state", state, "user", user(p))).build();
    }

    private static GaugeSnapshot poolGauge(List<PoolView> views, String name, String help,
                                           ToDoubleFunction<PoolView> value) {
        return PerItemSnapshots.gauge(views, name, help, PoolCollectors::poolLabels, value);
    }

    private static CounterSnapshot poolCounter(List<PoolView> views, String name, String help,
                                               ToDoubleFunction<PoolView> value) {
        return PerItemSnapshots.counter(views, name, help, PoolCollectors::poolLabels, value);
    }

    private static Labels poolLabels(PoolView p) {
        return Labels.of("database", db(p), "user", user(p));
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
