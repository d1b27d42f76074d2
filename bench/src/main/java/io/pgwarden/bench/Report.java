package io.pgwarden.bench;

import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;

/**
 * Turns the runs into results.md (the CPU, throughput and detail tables and the machine facts) and tps.png
 * ({@link TpsChart}).
 */
final class Report {

    /** All rounds of one workload on one target, folded into one row. */
    record Row(Workload workload, String target, List<Run> runs) {

        List<Run> ok() {
            return runs.stream().filter(Run::ok).toList();
        }

        double throughput() {
            return ok().stream().mapToDouble(Run::throughput).average().orElse(Double.NaN);
        }

        String failure() {
            return runs.stream().filter(r -> !r.ok()).map(Run::failure).findFirst().orElse(null);
        }

        /** Percentile of all rounds' sampled latencies pooled together (nearest rank). */
        double latencyMs(double percentile) {
            double[] all = ok().stream().flatMapToDouble(r -> Arrays.stream(r.latenciesMs())).sorted().toArray();
            if (all.length == 0) {
                return Double.NaN;
            }
            int rank = (int) Math.ceil(percentile / 100 * all.length);
            return all[Math.max(0, rank - 1)];
        }

        /** CPU seconds of the proxy per 1,000 transactions (pgbench) or per GB (COPY), over all rounds. */
        double cpuCost() {
            double cpu = ok().stream().mapToDouble(Run::cpuSeconds).sum();
            double work = ok().stream().mapToDouble(Run::work).sum();
            double per = workload.kind() == Workloads.Kind.PGBENCH ? 1_000 : 1e9;
            return work > 0 ? cpu / work * per : Double.NaN;
        }

        /** Milliseconds of one part of the proxy's CPU (user or system) per 1,000 transactions, over all rounds. */
        double cpuMsPerThousand(ToDoubleFunction<ProxyMeter.Counters> part) {
            return perWork(part) * 1e6;
        }

        /** System calls or context switches per transaction, over all rounds. */
        double perTransaction(ToDoubleFunction<ProxyMeter.Counters> count) {
            return perWork(count);
        }

        private double perWork(ToDoubleFunction<ProxyMeter.Counters> f) {
            double total = ok().stream().mapToDouble(r -> f.applyAsDouble(r.counters())).sum();
            double work = ok().stream().mapToDouble(Run::work).sum();
            return work > 0 ? total / work : Double.NaN;
        }

        /** Why this row has no system call count (the first run's reason), null when it has one. */
        String syscallsMissing() {
            return ok().stream().map(r -> r.counters().syscallsMissing()).filter(m -> m != null).findFirst()
                    .orElse(null);
        }

        double peakRssMb() {
            return ok().stream().mapToDouble(Run::peakRssMb).max().orElse(Double.NaN);
        }

        /** pgbench's own TPS, averaged like {@link #throughput}, for comparison with the steady window's. */
        double pgbenchTps() {
            return ok().stream().mapToDouble(Run::pgbenchTps).average().orElse(Double.NaN);
        }

        double windowSeconds() {
            return ok().stream().mapToDouble(Run::windowSeconds).average().orElse(Double.NaN);
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final Map<Workload, Map<String, Row>> byWorkload = new LinkedHashMap<>();
    private final Set<String> targetNames = new LinkedHashSet<>();

    Report(List<Run> runs) {
        Map<Workload, Map<String, List<Run>>> grouped = new LinkedHashMap<>();
        for (Run r : runs) {
            grouped.computeIfAbsent(r.workload(), w -> new LinkedHashMap<>())
                    .computeIfAbsent(r.target().name(), t -> new ArrayList<>()).add(r);
        }
        grouped.forEach((w, perTarget) -> perTarget.forEach((t, list) -> {
            Row row = new Row(w, t, list);
            rows.add(row);
            byWorkload.computeIfAbsent(w, x -> new LinkedHashMap<>()).put(t, row);
            targetNames.add(t);
        }));
    }

    /** One workload's row for one target, null if it was not run there. */
    Row row(Workload w, String target) {
        return byWorkload.getOrDefault(w, Map.of()).get(target);
    }

    /**
     * The throughput table with the ratios: a line per workload, or per workload and pgwarden target when pgwarden
     * runs once per transport.
     */
    String summaryTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | unit | direct | pgwarden | PgBouncer | pgwarden/direct | pgwarden/PgBouncer |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|\n");
        byWorkload.forEach((w, perTarget) -> {
            Row direct = perTarget.get("direct");
            Row bouncer = bouncer(perTarget);
            List<String> wardens = perTarget.keySet().stream().filter(Report::isPgwarden).toList();
            for (String name : wardens.isEmpty() ? List.of("pgwarden") : wardens) {
                Row warden = perTarget.get(name);
                sb.append("| ").append(w.name()).append(name.equals("pgwarden") ? "" : " · " + name).append(" | ")
                        .append(w.unit()).append(" | ")
                        .append(cell(direct)).append(" | ").append(cell(warden)).append(" | ")
                        .append(bouncer == null ? "not installed" : cell(bouncer)
                                + (bouncer.target().equals("pgbouncer") ? "" : " (" + bouncer.target() + ")"))
                        .append(" | ").append(ratio(warden, direct)).append(" | ").append(ratio(warden, bouncer))
                        .append(" |\n");
            }
        });
        return sb.toString();
    }

    /**
     * The headline: each proxy's TPS next to its CPU per 1,000 transactions, user and system apart, and its
     * system calls and context switches per transaction, all as ratios to PgBouncer in the same run. CPU per
     * transaction does not depend on how pgbench and PostgreSQL share the machine, TPS does.
     */
    String cpuTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | target | TPS | TPS ÷ PgBouncer | CPU user ms/1k tx | CPU sys ms/1k tx"
                + " | CPU total ms/1k tx | user ÷ PgBouncer | sys ÷ PgBouncer | total ÷ PgBouncer"
                + " | syscalls/tx | ctx switches/tx | p99 ms | p99 ÷ PgBouncer |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        ToDoubleFunction<ProxyMeter.Counters> user = ProxyMeter.Counters::userSeconds;
        ToDoubleFunction<ProxyMeter.Counters> sys = ProxyMeter.Counters::systemSeconds;
        ToDoubleFunction<ProxyMeter.Counters> total = ProxyMeter.Counters::cpuSeconds;
        byWorkload.forEach((w, perTarget) -> {
            if (w.kind() != Workloads.Kind.PGBENCH) {
                return;
            }
            Row bouncer = bouncer(perTarget);
            for (Row r : perTarget.values()) {
                if (r.target().equals("direct")) {
                    continue;
                }
                boolean reference = r == bouncer;
                sb.append("| ").append(w.name()).append(" | ").append(r.target()).append(" | ")
                        .append(cell(r)).append(wholeRun(r) ? " †" : "").append(" | ")
                        .append(reference ? "–" : ratio(r, bouncer)).append(" | ")
                        .append(fmt1(r.cpuMsPerThousand(user))).append(" | ")
                        .append(fmt1(r.cpuMsPerThousand(sys))).append(" | ")
                        .append(fmt1(r.cpuMsPerThousand(total))).append(" | ")
                        .append(reference ? "–" : costRatio(r, bouncer, user)).append(" | ")
                        .append(reference ? "–" : costRatio(r, bouncer, sys)).append(" | ")
                        .append(reference ? "–" : costRatio(r, bouncer, total)).append(" | ")
                        .append(count(r, ProxyMeter.Counters::syscalls)).append(" | ")
                        .append(count(r, ProxyMeter.Counters::contextSwitches)).append(" | ")
                        .append(fmt2(r.latencyMs(99))).append(" | ")
                        .append(reference || bouncer == null ? "–"
                                : fmt2(r.latencyMs(99) / bouncer.latencyMs(99)))
                        .append(" |\n");
            }
        });
        Set<String> missing = new TreeSet<>();
        Set<String> procSwitches = new TreeSet<>();
        rows.stream().filter(r -> !r.target().equals("direct") && r.workload().kind() == Workloads.Kind.PGBENCH)
                .forEach(r -> {
                    if (r.syscallsMissing() != null) {
                        missing.add(r.target() + ": " + r.syscallsMissing());
                    }
                    if (r.ok().stream().anyMatch(run -> "/proc".equals(run.counters().contextSource()))) {
                        procSwitches.add(r.target());
                    }
                });
        if (rows.stream().anyMatch(Report::wholeRun)) {
            sb.append("\n† In at least one round the steady window (both pgbench threads running transactions)"
                    + " was under 3 s, so that round's figures are over the whole run, logins included: on a"
                    + " loaded machine a proxy that derives the SCRAM key at every login (PgBouncer) then shows"
                    + " the CPU of its logins, and such a row's ratios say little.\n");
        }
        if (!missing.isEmpty()) {
            sb.append("\nSystem calls not counted (n/a above): ").append(String.join("; ", missing))
                    .append(". Context switches for ").append(String.join(", ", procSwitches))
                    .append(" are then the threads' voluntary and involuntary switches from /proc/<pid>/task/*/status.\n");
        }
        return sb.toString();
    }

    private static boolean wholeRun(Row r) {
        return r.ok().stream().anyMatch(run -> run.counters().wholeRun());
    }

    /** A count per transaction, or n/a when it was not counted (never a silent zero). */
    private static String count(Row r, ToDoubleFunction<ProxyMeter.Counters> f) {
        double v = r.perTransaction(f);
        return Double.isNaN(v) ? (r.ok().isEmpty() ? "–" : "n/a") : fmt2(v);
    }

    private static String costRatio(Row a, Row b, ToDoubleFunction<ProxyMeter.Counters> part) {
        if (a == null || b == null || a.ok().isEmpty() || b.ok().isEmpty()) {
            return "–";
        }
        return fmt2(a.cpuMsPerThousand(part) / b.cpuMsPerThousand(part));
    }

    private static boolean isPgwarden(String target) {
        return target.equals("pgwarden") || target.startsWith("pgwarden-");
    }

    /** Every row with latency, CPU and memory, and each round's throughput to show the spread. */
    String detailTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | target | throughput | per round | p50 ms | p99 ms | proxy CPU s per 1k tx"
                + " (COPY: per GB) | proxy peak RSS MB | pgbench's own tps | window s |\n");
        sb.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            boolean copy = r.workload().kind() != Workloads.Kind.PGBENCH;
            String perRound = r.runs().stream()
                    .map(run -> run.ok() ? fmt(run.throughput()) : shortFailure(run.failure()))
                    .collect(Collectors.joining(" / "));
            sb.append("| ").append(r.workload().name()).append(" | ").append(r.target()).append(" | ")
                    .append(r.ok().isEmpty() ? r.failure() : fmt(r.throughput()) + " " + r.workload().unit())
                    .append(" | ").append(perRound).append(" | ")
                    .append(copy ? "–" : fmt2(r.latencyMs(50))).append(" | ")
                    .append(copy ? "–" : fmt2(r.latencyMs(99))).append(" | ")
                    .append(fmt3(r.cpuCost())).append(" | ").append(fmt(r.peakRssMb())).append(" | ")
                    .append(copy ? "–" : fmt(r.pgbenchTps())).append(" | ")
                    .append(copy ? "–" : fmt1(r.windowSeconds())).append(" |\n");
        }
        return sb.toString();
    }

    /** @param sections further Markdown sections (heading included), after the detail table */
    void write(Path outDir, List<String> facts, List<String> notes, List<String> sections) throws IOException {
        write(outDir, "results", "pgwarden benchmark results", facts, notes, sections);
    }

    /**
     * @param name  the Markdown file's name without ".md"; the chart is tps.png for "results", else name-tps.png
     */
    void write(Path outDir, String name, String title, List<String> facts, List<String> notes,
               List<String> sections) throws IOException {
        Files.createDirectories(outDir);
        String chart = name.equals("results") ? "tps.png" : name + "-tps.png";
        StringBuilder md = new StringBuilder("# " + title + "\n\n");
        facts.forEach(f -> md.append("- ").append(f).append('\n'));
        md.append("\n## TPS and proxy CPU per transaction\n\n").append(cpuTable());
        md.append("\n## Throughput\n\n").append(summaryTable());
        md.append("\n![TPS per workload and target](").append(chart).append(")\n");
        md.append("\n## Detail\n\n").append(detailTable());
        sections.forEach(section -> md.append('\n').append(section));
        md.append("\n## Notes\n\n");
        notes.forEach(n -> md.append("- ").append(n).append('\n'));
        Files.writeString(outDir.resolve(name + ".md"), md.toString());
        ImageIO.write(TpsChart.draw(this), "png", outDir.resolve(chart).toFile());
    }

    /** PgBouncer's row for a workload: the transaction-mode one, else the session-mode one (-M prepared). */
    private static Row bouncer(Map<String, Row> perTarget) {
        return perTarget.entrySet().stream().filter(e -> e.getKey().startsWith("pgbouncer"))
                .map(Map.Entry::getValue).findFirst().orElse(null);
    }

    private static String cell(Row r) {
        if (r == null) {
            return "–";
        }
        return r.ok().isEmpty() ? shortFailure(r.failure()) : fmt(r.throughput());
    }

    /** "n/a" or "failed" for the compact columns; the detail table's throughput column has the reason. */
    static String shortFailure(String failure) {
        return failure != null && failure.startsWith("n/a") ? "n/a" : "failed";
    }

    private static String ratio(Row a, Row b) {
        if (a == null || b == null || a.ok().isEmpty() || b.ok().isEmpty()) {
            return "–";
        }
        return String.format(Locale.ROOT, "%.2f", a.throughput() / b.throughput());
    }

    static String fmt(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String fmt1(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String fmt2(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String fmt3(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.3f", v);
    }

    Map<Workload, Map<String, Row>> byWorkload() {
        return byWorkload;
    }

    List<Row> rows() {
        return rows;
    }

    Set<String> targetNames() {
        return targetNames;
    }
}
