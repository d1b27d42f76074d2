package io.pgwarden.bench;

import io.pgwarden.bench.FootprintCandidates.Candidate;
import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Target;
import io.pgwarden.bench.Workloads.Workload;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * The footprint runs ({@code --footprint}): for each JVM option set, a fresh pgwarden is started and measured at
 * start, under 100 active clients and with 10,000 idle ones, in that order on the same process; PgBouncer goes
 * through the same steps for the ratio. Each round starts with another set, so drift hits them alike.
 */
final class FootprintBench {

    private static final int ACTIVE_CLIENTS = 100;
    /** After start and after the idle clients logged in: time for the event loops to go quiet before RSS is read. */
    private static final long SETTLE_MILLIS = 2_000;
    static final String BOUNCER = "pgbouncer";

    /** One start of one target, measured; NaN or null where a step failed or does not apply. */
    record Sample(String target, int round, double listeningSeconds, double firstLoginSeconds, Memory atStart,
                  Run active, Memory afterActive, Memory idle, double idleOpenSeconds, int idleClients,
                  String pauses, double longestPauseMs, double longestSafepointMs, String longestSafepointName,
                  double allocationStallMs, double longestPauseCpuMs, String failure, List<double[]> moreStarts) {
    }

    /** Resident and proportional set size in MiB, the peak (VmHWM) since the last reset, and NMT's view. */
    record Memory(double rssMb, double pssMb, double peakMb, Map<String, Long> nmtCommittedKb) {
    }

    private final Options o;
    private final String pgbench;
    private final String psql;
    private final String pgbouncer;
    private final Path work;
    private final UnaryOperator<Proxy> track;
    private final BooleanSupplier stopping;

    FootprintBench(Options o, String pgbench, String psql, String pgbouncer, Path work, UnaryOperator<Proxy> track,
                   BooleanSupplier stopping) {
        this.o = o;
        this.pgbench = pgbench;
        this.psql = psql;
        this.pgbouncer = pgbouncer;
        this.work = work;
        this.track = track;
        this.stopping = stopping;
    }

    int run(Postgres pg) throws Exception {
        List<Candidate> sets = new ArrayList<>(FootprintCandidates.select(o.footprintSets));
        if (!o.pgwardenJvm.isEmpty()) {
            sets.add(new Candidate("custom", o.pgwardenJvm, Map.of(), false, "--pgwarden-jvm"));
        }
        List<String> facts = new ArrayList<>(Harness.facts(pg, pgbouncer, o));
        facts.add("load average (1, 5, 15 min) at the start: " + loadAverage());
        Workloads runner = new Workloads(pgbench, psql, work, o.duration, 0, o.out.resolve("failures.log"));
        List<String> names = new ArrayList<>(sets.stream().map(Candidate::name).toList());
        if (pgbouncer != null) {
            names.add(BOUNCER);
        }
        List<Sample> samples = new ArrayList<>();
        for (int round = 1; round <= o.rounds; round++) {
            for (int i = 0; i < names.size(); i++) {
                String name = names.get((i + round - 1) % names.size());
                if (stopping.getAsBoolean()) {
                    return 130;
                }
                Sample s = name.equals(BOUNCER) ? measureBouncer(pg, runner, round)
                        : measure(sets.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(), pg,
                        runner, round);
                samples.add(s);
                Harness.log(FootprintReport.oneLine(s) + " (load " + loadAverage() + ")");
            }
        }
        facts.add("load average at the end: " + loadAverage());
        String md = FootprintReport.markdown(sets, samples, facts, commandLine());
        Files.createDirectories(o.out);
        Path file = o.out.resolve("footprint.md");
        Files.writeString(file, md);
        System.out.println(md);
        Harness.log("wrote " + file);
        return 0;
    }

    private String commandLine() {
        return String.join(" ", o.args);
    }

    private Sample measure(Candidate c, Postgres pg, Workloads runner, int round) throws Exception {
        Path dir = work.resolve("footprint-" + c.name() + "-" + round);
        List<String> jvm = new ArrayList<>(c.jvm());
        jvm.add("-XX:+ExitOnOutOfMemoryError");
        jvm.addAll(JvmProbe.safepointLogOptions(dir.resolve("safepoint.log")));
        if (o.footprintNmt) {
            jvm.add("-XX:NativeMemoryTracking=summary");
        }
        if (c.cds()) {
            train(c, jvm, dir, pg, runner);
            jvm.add("-XX:SharedArchiveFile=" + dir.resolve("pgwarden.jsa"));
        }
        Proxy p;
        try {
            p = track.apply(Proxy.startPgwarden(c.name(), o.pgwardenJar, dir, pg.port(), jvm, o.pgwardenThreads,
                    null, null, c.env()));
        } catch (IOException e) {
            return failed(c.name(), round, "did not start: " + e.getMessage());
        }
        Sample s;
        try {
            s = steps(c.name(), p, runner, round, dir.resolve(Proxy.GC_LOG), dir.resolve("safepoint.log"));
        } catch (IOException e) {
            return failed(c.name(), round, e.getMessage() + (p.isAlive() ? "" : "; exited: " + p.tail()));
        } finally {
            p.close();
            keepLogs(dir, c.name() + "-" + round);
        }
        // Start-up alone, a few more times: on shared cores one start says little, the fastest of several more.
        for (int i = 0; i < o.footprintStarts; i++) {
            Proxy again = track.apply(Proxy.startPgwarden(c.name(), o.pgwardenJar, dir, pg.port(), jvm,
                    o.pgwardenThreads, null, null, c.env()));
            try (Socket first = IdleClients.login(again.port(), Postgres.DATABASE)) {
                s.moreStarts().add(new double[] {again.secondsToListening(),
                        (System.nanoTime() - again.startedNanos()) / 1e9});
            } finally {
                again.close();
            }
        }
        return s;
    }

    /** With --footprint-logs DIR, each start's GC and safepoint logs are copied there before the work dir goes. */
    private void keepLogs(Path dir, String prefix) {
        if (o.footprintLogs == null) {
            return;
        }
        try {
            Files.createDirectories(o.footprintLogs);
            for (String f : List.of(Proxy.GC_LOG, "safepoint.log", "pgwarden.log")) {
                if (Files.exists(dir.resolve(f))) {
                    Files.copy(dir.resolve(f), o.footprintLogs.resolve(prefix + "-" + f),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            Harness.log("could not keep the logs of " + prefix + ": " + e.getMessage());
        }
    }

    /** A first start that writes the class-data archive at exit, after the paths a client takes have run once. */
    private void train(Candidate c, List<String> jvm, Path dir, Postgres pg, Workloads runner) throws Exception {
        List<String> training = new ArrayList<>(jvm);
        training.add("-XX:ArchiveClassesAtExit=" + dir.resolve("pgwarden.jsa"));
        Proxy p = track.apply(Proxy.startPgwarden(c.name() + "-training", o.pgwardenJar, dir, pg.port(), training,
                o.pgwardenThreads, null, null, c.env()));
        try {
            IdleClients.login(p.port(), Postgres.DATABASE).close();
            runner.warmUp(new Target(c.name(), p.port(), p), 3, List.of("simple"));
        } finally {
            p.close();
        }
        Files.deleteIfExists(dir.resolve(Proxy.GC_LOG));
        Files.deleteIfExists(dir.resolve("safepoint.log"));
        if (!Files.exists(dir.resolve("pgwarden.jsa"))) {
            throw new IOException(c.name() + ": no class-data archive after the training start: " + p.tail());
        }
    }

    private Sample measureBouncer(Postgres pg, Workloads runner, int round) throws Exception {
        Proxy p = track.apply(Proxy.startPgbouncer(BOUNCER + "-" + round, pgbouncer, work, pg.port(),
                "transaction", Harness.POOL_SIZE, null, true));
        try {
            return steps(BOUNCER, p, runner, round, null, null);
        } catch (IOException e) {
            return failed(BOUNCER, round, e.getMessage());
        } finally {
            p.close();
        }
    }

    /** Start-up, then RSS at start, with 100 active clients (TPS too) and with the idle clients. */
    private Sample steps(String name, Proxy p, Workloads runner, int round, Path gcLog, Path safepointLog)
            throws Exception {
        Target t = new Target(name, p.port(), p);
        double listening = p.secondsToListening();
        double firstLogin;
        try (Socket first = IdleClients.login(p.port(), Postgres.DATABASE)) {
            firstLogin = (System.nanoTime() - p.startedNanos()) / 1e9;
        }
        Thread.sleep(SETTLE_MILLIS);
        Memory atStart = memory(p);

        String warm = runner.warmUp(t, o.footprintWarmUp, List.of("simple"));
        Workload w = Workloads.plan(List.of(ACTIVE_CLIENTS), List.of("simple"), List.of("select"), 0).get(0);
        Run active = runner.run(w, t, round);
        Memory afterActive = memory(p);
        if (!active.ok()) {
            Harness.log(name + ": warm-up " + warm + ", run " + active.failure());
        }

        Memory idle = null;
        double openSeconds = Double.NaN;
        int opened = 0;
        String failure = null;
        p.resetPeakRss();
        long started = System.nanoTime();
        try (IdleClients clients = IdleClients.open(p.port(), Postgres.DATABASE, o.idleClients, 8)) {
            openSeconds = (System.nanoTime() - started) / 1e9;
            opened = clients.size();
            Thread.sleep(SETTLE_MILLIS);
            idle = memory(p);
        } catch (Exception e) {
            failure = "idle clients: " + e.getMessage() + (p.isAlive() ? "" : "; exited: " + p.tail());
        }

        String pauses = "–";
        double longestPause = Double.NaN;
        double longestSafepoint = Double.NaN;
        String safepointName = "–";
        double stall = Double.NaN;
        double pauseCpu = Double.NaN;
        if (gcLog != null) {
            pauseCpu = JvmProbe.cpuOfLongestPause(gcLog, safepointLog) * 1000;
            JvmProbe.Pauses gc = JvmProbe.pauses(gcLog);
            pauses = String.format(Locale.ROOT, "%s: %d, longest %.2f ms, total %.1f ms, %d above 10 ms",
                    gc.collector().replace("The Z Garbage Collector", "ZGC"), gc.count(), gc.maxMs(), gc.totalMs(),
                    gc.over10ms().size());
            longestPause = gc.maxMs();
            JvmProbe.Safepoints sp = JvmProbe.safepoints(safepointLog);
            longestSafepoint = sp.maxMs();
            safepointName = sp.longest();
            stall = JvmProbe.longestAllocationStallMs(gcLog);
        }
        return new Sample(name, round, listening, firstLogin, atStart, active, afterActive, idle, openSeconds, opened,
                pauses, longestPause, longestSafepoint, safepointName, stall, pauseCpu, failure,
                new ArrayList<>());
    }

    private Memory memory(Proxy p) {
        try {
            Map<String, Long> nmt = o.footprintNmt && !p.name().startsWith(BOUNCER)
                    ? JvmProbe.nativeMemoryCommittedKb(p.pid()) : new HashMap<>();
            return new Memory(JvmProbe.rss(p.pid()) / 1048576.0, JvmProbe.pss(p.pid()) / 1048576.0, p.peakRssMb(),
                    nmt);
        } catch (IOException e) {
            return new Memory(Double.NaN, Double.NaN, Double.NaN, Map.of());
        }
    }

    private static Sample failed(String name, int round, String why) {
        return new Sample(name, round, Double.NaN, Double.NaN, null, null, null, null, Double.NaN, 0, "–",
                Double.NaN, Double.NaN, "–", Double.NaN, Double.NaN, why, List.of());
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return String.format(Locale.ROOT, "%s, %s, %s", f[0], f[1], f[2]);
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
