package io.pgwarden.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/** A gauge or counter with one data point per pool, database or other view, labelled by that view. */
final class PerItemSnapshots {

    private PerItemSnapshots() {
    }

    static <V> GaugeSnapshot gauge(List<V> views, String name, String help, Function<V, Labels> labels,
                                   ToDoubleFunction<V> value) {
        GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(name).help(help);
        views.forEach(v -> gauge.dataPoint(GaugeDataPointSnapshot.builder().value(value.applyAsDouble(v))
                .labels(labels.apply(v)).build()));
        return gauge.build();
    }

    static <V> CounterSnapshot counter(List<V> views, String name, String help, Function<V, Labels> labels,
                                       ToDoubleFunction<V> value) {
        CounterSnapshot.Builder counter = CounterSnapshot.builder().name(name).help(help);
        views.forEach(v -> counter.dataPoint(CounterDataPointSnapshot.builder().value(value.applyAsDouble(v))
                .labels(labels.apply(v)).build()));
        return counter.build();
    }
}
