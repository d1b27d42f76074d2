package io.pgwarden.bench;

import io.pgwarden.bench.FootprintBench.Memory;
import io.pgwarden.bench.FootprintBench.Sample;
import io.pgwarden.bench.FootprintCandidates.Candidate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * footprint.md: per option set the largest RSS over the rounds (RSS does not depend on the machine's load), the
 * longest pause, the median start-up and the mean TPS, against PgBouncer's RSS and the targets.
 */
final class FootprintReport {

    static final double RSS_ACTIVE_TARGET_MB = 128;
    static final double RSS_IDLE_TARGET_MB = 192;
    static final double PAUSE_TARGET_MS = 10;
    static final double START_TARGET_S = 1.5;

    private FootprintReport() {
    }

    static String oneLine(Sample s) {
        if (s.atStart() == null) {
            return s.target() + " round " + s.round() + ": " + s.failure();
        }
        return String.format(Locale.ROOT, "%s round %d: listening %.2f s, login %.2f s, RSS %.0f / %.0f / %s MiB,"
                        + " longest pause %.2f ms (safepoint %.2f ms %s), %s tps%s", s.target(), s.round(),
                s.listeningSeconds(), s.firstLoginSeconds(), s.atStart().rssMb(), s.active().peakRssMb(),
                s.idle() == null ? "–" : String.format(Locale.ROOT, "%.0f", s.idle().rssMb()), s.longestPauseMs(),
                s.longestSafepointMs(), s.longestSafepointName(), s.active().ok()
                        ? String.format(Locale.ROOT, "%.0f", s.active().throughput()) : s.active().failure(),
                s.failure() == null ? "" : "; " + s.failure());
    }

    static String markdown(List<Candidate> sets, List<Sample> samples, List<String> facts, String args) {
        StringBuilder md = new StringBuilder("# pgwarden's footprint: RSS, GC pauses and start-up per JVM option set\n\n");
        facts.forEach(f -> md.append("- ").append(f).append('\n'));
        md.append("- command: `bench/run.sh ").append(args).append("`\n\n");
        md.append("""
                Each set gets a fresh pgwarden per round, measured in this order on that one process: start-up (from \
                starting the process to its port accepting a TCP connection, polled every 10 ms, and to the first \
                login's ReadyForQuery), RSS 2 s after that login, an unrecorded pgbench -S warm-up (--footprint-warmup, \
                default 5 s) and a measured run with 100 clients (-M simple, transaction mode, pool 20), then the idle clients (MD5 over raw \
                sockets) logging in and staying, RSS 2 s after the last one. **RSS** is VmRSS from /proc/PID/status; \
                **peak** is VmHWM over the 100-client run, and over the idle clients' logins, each reset before \
                (clear_refs). **PSS** counts a page mapped several times once: Java 17's ZGC maps its heap three \
                times, so its VmRSS shows the heap up to three times over what a container's memory is charged. \
                **Longest pause** is the longest collector pause over the process's whole life (-Xlog:gc,gc+phases); \
                **longest safepoint** the longest stop of all Java threads for any reason (-Xlog:safepoint: reaching \
                the safepoint plus the operation). Every option set also has -XX:+ExitOnOutOfMemoryError. Sizes \
                are MiB. RSS figures are the largest over the rounds, times the median, TPS the mean.

                """);
        Map<String, List<Sample>> byTarget = new java.util.LinkedHashMap<>();
        samples.forEach(s -> byTarget.computeIfAbsent(s.target(), k -> new ArrayList<>()).add(s));
        double bouncerActive = byTarget.containsKey(FootprintBench.BOUNCER)
                ? max(byTarget.get(FootprintBench.BOUNCER), s -> s.active() == null ? Double.NaN
                : s.active().peakRssMb()) : Double.NaN;
        double bouncerIdle = byTarget.containsKey(FootprintBench.BOUNCER)
                ? max(byTarget.get(FootprintBench.BOUNCER), s -> s.idle() == null ? Double.NaN : s.idle().rssMb())
                : Double.NaN;
        md.append("| set | RSS at start | peak RSS, 100 active (PSS after) | RSS, idle clients (PSS; peak while"
                + " they logged in) | ×PgBouncer active / idle | longest GC pause ms | longest safepoint ms"
                + " | start-up s: listening / first login, median (fastest) of " + startCount(samples) + " | TPS @100"
                + " | proxy CPU s per 1k tx @100 | targets met |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Map.Entry<String, List<Sample>> e : byTarget.entrySet()) {
            List<Sample> ss = e.getValue();
            double start = max(ss, s -> mem(s.atStart(), Memory::rssMb));
            double active = max(ss, s -> s.active() == null ? Double.NaN : s.active().peakRssMb());
            double activePss = max(ss, s -> mem(s.afterActive(), Memory::pssMb));
            double idle = max(ss, s -> mem(s.idle(), Memory::rssMb));
            double idlePss = max(ss, s -> mem(s.idle(), Memory::pssMb));
            double idlePeak = max(ss, s -> mem(s.idle(), Memory::peakMb));
            double pause = max(ss, Sample::longestPauseMs);
            double safepoint = max(ss, Sample::longestSafepointMs);
            double[] listenings = starts(ss, 0);
            double[] logins = starts(ss, 1);
            double listening = median(listenings);
            double login = median(logins);
            double tps = mean(ss, s -> s.active() != null && s.active().ok() ? s.active().throughput() : Double.NaN);
            double cpu = mean(ss, s -> s.active() != null && s.active().ok()
                    ? s.active().cpuSeconds() / s.active().work() * 1000 : Double.NaN);
            boolean bouncer = e.getKey().equals(FootprintBench.BOUNCER);
            md.append(String.format(Locale.ROOT, "| %s | %s | %s (%s) | %s (%s; %s) | %s / %s | %s | %s | %s / %s |"
                            + " %s | %s | %s |\n", e.getKey(), f0(start), f0(active), f0(activePss), f0(idle), f0(idlePss),
                    f0(idlePeak), bouncer ? "1" : f1(active / bouncerActive), bouncer ? "1" : f1(idle / bouncerIdle),
                    f2(pause), f2(safepoint), f2(listening) + " (" + f2(min(listenings)) + ")",
                    f2(login) + " (" + f2(min(logins)) + ")", f0(tps), f3(cpu),
                    bouncer ? "–" : targets(active, idle, pause, login, ss)));
        }
        md.append("\nTargets: RSS ≤ ").append(f0(RSS_ACTIVE_TARGET_MB)).append(" MiB with 100 active clients (A), ≤ ")
                .append(f0(RSS_IDLE_TARGET_MB)).append(" MiB with the idle clients (I), no GC pause above ")
                .append(f0(PAUSE_TARGET_MS)).append(" ms (P), first login ≤ ").append(START_TARGET_S)
                .append(" s after the process starts (S).\n\n");

        md.append("## Option sets\n\n| set | JVM options (and environment) | change |\n|---|---|---|\n");
        for (Candidate c : sets) {
            String env = c.env().isEmpty() ? "" : " (env " + String.join(" ", c.env().entrySet().stream()
                    .map(x -> x.getKey() + "=" + x.getValue()).toList()) + ")";
            md.append("| ").append(c.name()).append(" | `").append(String.join(" ", c.jvm())).append("`").append(env)
                    .append(c.cds() ? " + `-XX:SharedArchiveFile` (trained by a first start)" : "")
                    .append(" | ").append(c.change()).append(" |\n");
        }

        md.append("\n## Every start\n\n| set | round | listening s | first login s | RSS start (PSS) | peak 100 active"
                + " | RSS idle (PSS) | idle clients, s to log in | TPS @100, p99 ms | pauses | CPU ms of the longest"
                + " | longest safepoint | ZGC allocation stall ms | failure |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---|\n");
        for (Sample s : samples) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s (%s) | %s | %s (%s) | %d, %s | %s | %s |"
                            + " %s | %s %s | %s | %s |\n", s.target(), s.round(), f2(s.listeningSeconds()),
                    f2(s.firstLoginSeconds()), f0(mem(s.atStart(), Memory::rssMb)), f0(mem(s.atStart(), Memory::pssMb)),
                    f0(s.active() == null ? Double.NaN : s.active().peakRssMb()), f0(mem(s.idle(), Memory::rssMb)),
                    f0(mem(s.idle(), Memory::pssMb)), s.idleClients(), f1(s.idleOpenSeconds()), activeText(s),
                    s.pauses(), f0(s.longestPauseCpuMs()), f2(s.longestSafepointMs()), s.longestSafepointName(), f1(s.allocationStallMs()),
                    s.failure() == null ? "" : s.failure().replace('\n', ' ').replace('|', '/')));
        }
        nmt(md, samples);
        return md.toString();
    }

    private static void nmt(StringBuilder md, List<Sample> samples) {
        boolean any = samples.stream().anyMatch(s -> s.atStart() != null && !s.atStart().nmtCommittedKb().isEmpty());
        if (!any) {
            return;
        }
        md.append("\n## Native memory tracking (committed MiB, jcmd VM.native_memory summary)\n\n"
                + "NMT's own bookkeeping is in its figures and in the RSS above (the runs with NMT cost a few MiB more)."
                + "\n\n| set | round | when | total | categories |\n|---|---:|---|---:|---|\n");
        for (Sample s : samples) {
            String[] when = {"start", "100 active", "idle clients"};
            Memory[] ms = {s.atStart(), s.afterActive(), s.idle()};
            for (int i = 0; i < 3; i++) {
                if (ms[i] == null || ms[i].nmtCommittedKb().isEmpty()) {
                    continue;
                }
                List<String> parts = new ArrayList<>();
                ms[i].nmtCommittedKb().forEach((k, v) -> {
                    if (!k.equals("Total") && v >= 1024) {
                        parts.add(k + " " + f1(v / 1024.0));
                    }
                });
                md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s |\n", s.target(), s.round(), when[i],
                        f1(ms[i].nmtCommittedKb().get("Total") / 1024.0), String.join(", ", parts)));
            }
        }
    }

    private static String activeText(Sample s) {
        if (s.active() == null) {
            return "–";
        }
        if (!s.active().ok()) {
            return s.active().failure().replace('|', '/');
        }
        double[] l = s.active().latenciesMs().clone();
        java.util.Arrays.sort(l);
        double p99 = l.length == 0 ? Double.NaN : l[Math.min(l.length - 1, (int) Math.ceil(l.length * 0.99) - 1)];
        return f0(s.active().throughput()) + ", " + f1(p99);
    }

    private static String targets(double active, double idle, double pause, double login, List<Sample> ss) {
        boolean failed = ss.stream().anyMatch(s -> s.failure() != null);
        return (active <= RSS_ACTIVE_TARGET_MB ? "A" : "·") + (idle <= RSS_IDLE_TARGET_MB && !failed ? "I" : "·")
                + (pause <= PAUSE_TARGET_MS ? "P" : "·") + (login <= START_TARGET_S ? "S" : "·");
    }

    private static double mem(Memory m, ToDoubleFunction<Memory> f) {
        return m == null ? Double.NaN : f.applyAsDouble(m);
    }

    private static double max(List<Sample> ss, ToDoubleFunction<Sample> f) {
        return ss.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
    }

    private static double mean(List<Sample> ss, ToDoubleFunction<Sample> f) {
        return ss.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
    }

    /** Listening (0) or first-login (1) seconds of every start of these samples, sorted. */
    private static double[] starts(List<Sample> ss, int which) {
        List<Double> all = new ArrayList<>();
        for (Sample s : ss) {
            all.add(which == 0 ? s.listeningSeconds() : s.firstLoginSeconds());
            s.moreStarts().forEach(m -> all.add(m[which]));
        }
        return all.stream().mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d)).sorted().toArray();
    }

    private static String startCount(List<Sample> samples) {
        return samples.stream().filter(s -> !s.target().equals(FootprintBench.BOUNCER))
                .mapToInt(s -> 1 + s.moreStarts().size()).max().orElse(1) + " starts per round";
    }

    private static double min(double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted[0];
    }

    private static double median(double[] v) {
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String f0(double d) {
        return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, "%.0f", d);
    }

    private static String f1(double d) {
        return Double.isNaN(d) || Double.isInfinite(d) ? "–" : String.format(Locale.ROOT, "%.1f", d);
    }

    private static String f3(double d) {
        return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, "%.3f", d);
    }

    private static String f2(double d) {
        return Double.isNaN(d) ? "–" : String.format(Locale.ROOT, "%.2f", d);
    }
}
