package io.pgwarden.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * A cumulative counter (CPU seconds, system calls, context switches) sampled over a run, so that what it counted
 * inside a {@link SteadyWindow} can be read back afterwards: the window is only known once pgbench's logs are read.
 */
final class CounterSeries {

    /** epoch seconds and cumulative value, in time order */
    private final List<double[]> samples = new ArrayList<>();

    synchronized void add(double epochSeconds, double cumulative) {
        if (!Double.isNaN(cumulative)) {
            samples.add(new double[] {epochSeconds, cumulative});
        }
    }

    /** The increase between two instants, interpolated linearly between samples; NaN with fewer than two. */
    synchronized double between(double fromEpochSeconds, double toEpochSeconds) {
        return samples.size() < 2 ? Double.NaN : Math.max(0, at(toEpochSeconds) - at(fromEpochSeconds));
    }

    /** The increase from the first sample to the last; NaN with fewer than two. */
    synchronized double total() {
        return samples.size() < 2 ? Double.NaN : samples.get(samples.size() - 1)[1] - samples.get(0)[1];
    }

    private double at(double epochSeconds) {
        double[] previous = samples.get(0);
        for (double[] s : samples) {
            if (s[0] >= epochSeconds) {
                double span = s[0] - previous[0];
                return span <= 0 ? s[1] : previous[1] + (s[1] - previous[1]) * (epochSeconds - previous[0]) / span;
            }
            previous = s;
        }
        return previous[1];
    }
}
