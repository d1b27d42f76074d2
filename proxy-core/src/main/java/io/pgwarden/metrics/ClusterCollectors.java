package io.pgwarden.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/** The failover metrics, read from the databases' clusters at scrape time: the clusters own these numbers. */
final class ClusterCollectors implements MultiCollector {

    private final Supplier<List<ClusterView>> clusters;

    ClusterCollectors(Supplier<List<ClusterView>> clusters) {
        this.clusters = clusters;
    }

    @Override
    public MetricSnapshots collect() {
        List<ClusterView> views = clusters.get();
        if (views == null) {
            views = List.of();
        }
        return MetricSnapshots.of(
                counter(views, "pgwarden_failovers", "Failovers that ended on a new target host",
                        ClusterView::failoversCompleted),
                counter(views, "pgwarden_failover_replays",
                        "Requests replayed on another host than the one they were lost on", ClusterView::failoverReplays),
                counter(views, "pgwarden_failover_seconds", "Time with no host matching target_session_attrs",
                        ClusterView::secondsWithoutTarget),
                gauge(views, "pgwarden_failover_in_progress", "1 while no host matches target_session_attrs, else 0",
                        v -> v.failoverInProgress() ? 1 : 0),
                gauge(views, "pgwarden_clients_held", "Clients waiting for a backend while a failover is in progress",
                        ClusterView::clientsHeld),
                gauge(views, "pgwarden_split_brain", "1 while more than one host accepts writes, else 0",
                        v -> v.splitBrain() ? 1 : 0));
    }

    private static Labels labels(ClusterView v) {
        return Labels.of("database", PoolCollectors.orUnknown(v.database()));
    }

    private static GaugeSnapshot gauge(List<ClusterView> views, String name, String help,
                                       ToDoubleFunction<ClusterView> value) {
        return PerItemSnapshots.gauge(views, name, help, ClusterCollectors::labels, value);
    }

    private static CounterSnapshot counter(List<ClusterView> views, String name, String help,
                                           ToDoubleFunction<ClusterView> value) {
        return PerItemSnapshots.counter(views, name, help, ClusterCollectors::labels, value);
    }
}
