package io.pgwarden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The part of a pgbench run in which every pgbench thread is running transactions, read from its per-thread
 * transaction logs ({@code -l}, one file per thread).
 *
 * <p>pgbench's own TPS ("without initial connection time") still counts the seconds in which one thread runs
 * transactions while another is still logging its clients in. During those seconds the proxy is also serving
 * SCRAM logins, and PgBouncer, which derives the SCRAM key from the plain password at every login, pays for
 * each one. At 500 and 2,000 clients that skewed start is a large part of a short run and made pgwarden look
 * faster than it is in steady state. The window starts {@code settleSeconds} after the last thread's first
 * transaction and ends at the first thread's last one.
 */
record SteadyWindow(double startEpochSeconds, double endEpochSeconds, double[] latenciesMs, boolean wholeRun) {

    /** One logged transaction: when it ended and how long it took. */
    private record Entry(double endEpochSeconds, double latencyMs) {
    }

    double seconds() {
        return endEpochSeconds - startEpochSeconds;
    }

    /** Transactions per second in the window, scaled up from the logged sample. */
    double tps(double samplingRate) {
        // Every logged transaction in the window has its latency here: their count is the sample's size.
        return seconds() > 0 ? latenciesMs.length / samplingRate / seconds() : Double.NaN;
    }

    /**
     * @param settleSeconds  skipped after the last thread starts, for its pool waits and caches to settle
     * @param minimumSeconds a window shorter than this is not trusted: the whole run is used, {@code wholeRun} set
     */
    static SteadyWindow read(Path logDir, double settleSeconds, double minimumSeconds) throws IOException {
        List<List<Entry>> threads = new ArrayList<>();
        try (Stream<Path> files = Files.list(logDir)) {
            for (Path f : files.sorted().toList()) {
                List<Entry> entries = parse(f);
                if (!entries.isEmpty()) {
                    threads.add(entries);
                }
            }
        }
        return of(threads, settleSeconds, minimumSeconds);
    }

    private static SteadyWindow of(List<List<Entry>> threads, double settleSeconds, double minimumSeconds) {
        if (threads.isEmpty()) {
            return new SteadyWindow(0, 0, new double[0], true);
        }
        double lastStart = Double.NEGATIVE_INFINITY;
        double firstEnd = Double.POSITIVE_INFINITY;
        double earliest = Double.POSITIVE_INFINITY;
        double latest = Double.NEGATIVE_INFINITY;
        for (List<Entry> thread : threads) {
            double first = thread.stream().mapToDouble(Entry::endEpochSeconds).min().orElseThrow();
            double last = thread.stream().mapToDouble(Entry::endEpochSeconds).max().orElseThrow();
            lastStart = Math.max(lastStart, first);
            firstEnd = Math.min(firstEnd, last);
            earliest = Math.min(earliest, first);
            latest = Math.max(latest, last);
        }
        double start = lastStart + settleSeconds;
        double end = firstEnd;
        boolean wholeRun = end - start < minimumSeconds;
        if (wholeRun) {
            start = earliest;
            end = latest;
        }
        double from = start;
        double to = end;
        double[] latencies = threads.stream().flatMap(List::stream)
                .filter(e -> e.endEpochSeconds() >= from && e.endEpochSeconds() <= to)
                .mapToDouble(Entry::latencyMs).toArray();
        return new SteadyWindow(start, end, latencies, wholeRun);
    }

    /**
     * pgbench's log line: client id, transaction number, latency in microseconds, script number, and the end
     * time as epoch seconds and microseconds (then optional fields).
     */
    private static List<Entry> parse(Path f) throws IOException {
        try (Stream<String> lines = Files.lines(f)) {
            return lines.map(l -> l.split(" "))
                    .filter(fields -> fields.length >= 6)
                    .map(fields -> new Entry(Long.parseLong(fields[4]) + Long.parseLong(fields[5]) / 1e6,
                            Long.parseLong(fields[2]) / 1000.0))
                    .toList();
        }
    }
}
