package io.pgwarden.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The workloads, and how one of them is run once against one target with pgbench or psql. */
final class Workloads {

    enum Kind { PGBENCH, COPY_OUT, COPY_IN }

    /**
     * One row of the results. {@code pgbenchArgs} are the workload-specific pgbench options; {@code sessionBouncer}
     * marks -M prepared, which PgBouncer 1.18 supports only in session mode.
     */
    record Workload(String name, Kind kind, int clients, List<String> pgbenchArgs, boolean sessionBouncer) {
        String unit() {
            return kind == Kind.PGBENCH ? "tps" : "MB/s";
        }
    }

    /**
     * A place to send clients: direct PostgreSQL or a proxy (then with a process to measure). Runs with more
     * clients than {@code clientLimit} are reported as n/a ({@code limitReason}) instead of being attempted.
     */
    record Target(String name, int port, Proxy proxy, int clientLimit, String limitReason) {
        Target(String name, int port, Proxy proxy) {
            this(name, port, proxy, Integer.MAX_VALUE, null);
        }
    }

    /**
     * One run. {@code throughput} is TPS over the {@link SteadyWindow} (pgbench) or MB/s (COPY); {@code work} is
     * transactions or bytes, the denominator of CPU cost, and {@code cpuSeconds} the proxy's CPU over the same
     * span, which {@code counters} splits into user and system time next to its system calls and context
     * switches. {@code pgbenchTps} is pgbench's own figure, {@code windowSeconds} the window's length. NaN marks
     * what was not measured.
     */
    record Run(Workload workload, Target target, int round, double throughput, double work, double[] latenciesMs,
               double cpuSeconds, double peakRssMb, String failure, double pgbenchTps, double windowSeconds,
               ProxyMeter.Counters counters) {
        Run(Workload workload, Target target, int round, double throughput, double work, double[] latenciesMs,
            double cpuSeconds, double peakRssMb, String failure, double pgbenchTps, double windowSeconds) {
            this(workload, target, round, throughput, work, latenciesMs, cpuSeconds, peakRssMb, failure, pgbenchTps,
                    windowSeconds, ProxyMeter.Counters.NONE);
        }

        Run(Workload workload, Target target, int round, double throughput, double work, double[] latenciesMs,
            double cpuSeconds, double peakRssMb, String failure) {
            this(workload, target, round, throughput, work, latenciesMs, cpuSeconds, peakRssMb, failure, Double.NaN,
                    Double.NaN);
        }

        boolean ok() {
            return failure == null;
        }
    }

    private static final Pattern TPS = Pattern.compile("(?m)^tps = ([0-9.]+)");
    private static final Pattern PROCESSED = Pattern.compile("(?m)^number of transactions actually processed: (\\d+)");
    /** At high TPS every tenth transaction is logged: enough for p99, small enough not to slow pgbench. */
    private static final double SAMPLING_RATE = 0.1;
    /** See {@link SteadyWindow}: seconds skipped once every pgbench thread runs, and the shortest usable window. */
    private static final double SETTLE_SECONDS = 1;
    private static final double MINIMUM_WINDOW_SECONDS = 3;

    private final String pgbench;
    private final String psql;
    private final Path workDir;
    private final int duration;
    private final long copyRows;
    private final Path failureLog;
    private final Map<String, String> env;
    private Path copyInFile;
    /** perf, when it can count system calls here; else null and {@code perfMissing} says why. */
    private String perf;
    private String perfMissing = "system calls not counted in this mode";

    Workloads(String pgbench, String psql, Path workDir, int duration, long copyRows, Path failureLog) {
        this(pgbench, psql, workDir, duration, copyRows, failureLog, env());
    }

    /** @param env the libpq environment of every client run, e.g. {@link #tlsEnv()} */
    Workloads(String pgbench, String psql, Path workDir, int duration, long copyRows, Path failureLog,
              Map<String, String> env) {
        this.env = env;
        this.pgbench = pgbench;
        this.psql = psql;
        this.workDir = workDir;
        this.duration = duration;
        this.copyRows = copyRows;
        this.failureLog = failureLog;
    }

    /** Counts each proxy's system calls with perf from now on, or says why not ({@link PerfStat#probe}). */
    void countSystemCalls(String perfBinary, String missing) {
        this.perf = missing == null ? perfBinary : null;
        this.perfMissing = missing;
    }

    /** The workloads in the order they run; {@code kinds} picks among select, tpcb, storm, copy. */
    static List<Workload> plan(List<Integer> clients, List<String> modes, List<String> kinds, long copyRows) {
        List<Workload> plan = new ArrayList<>();
        if (kinds.contains("select")) {
            for (String mode : modes) {
                for (int c : clients) {
                    plan.add(new Workload("select-only -M " + mode + " -c " + c, Kind.PGBENCH, c,
                            List.of("-S", "-M", mode), mode.equals("prepared")));
                }
            }
        }
        if (kinds.contains("tpcb")) {
            for (int c : new int[] {10, 100}) {
                plan.add(new Workload("tpcb-like -M simple -c " + c, Kind.PGBENCH, c, List.of("-M", "simple"), false));
            }
        }
        if (kinds.contains("storm")) {
            // -C: a new connection (startup + SCRAM) for every transaction, the cost a pooler's front door pays.
            // A thread per client (the later -j wins), as the PHP or serverless processes this stands for are
            // independent: pgbench connects blocking, so with clients sharing a thread each login stalled the
            // others' answers, and the p99 measured pgbench's scheduling (85 ms at -j 2, 17-19 ms at -j 10).
            plan.add(new Workload("connection storm -C -S -c 10 -j 10", Kind.PGBENCH, 10,
                    List.of("-C", "-S", "-M", "simple", "-j", "10"), false));
        }
        if (kinds.contains("copy")) {
            String size = Math.round(copyRows * 101 / 1e6) + " MB";
            plan.add(new Workload("COPY out " + size + " (psql \\copy)", Kind.COPY_OUT, 1, List.of(), false));
            plan.add(new Workload("COPY in " + size + " (psql \\copy, unlogged)", Kind.COPY_IN, 1, List.of(), false));
        }
        return plan;
    }

    Run run(Workload w, Target t, int round) {
        if (t.proxy() != null && !t.proxy().isAlive()) {
            return failed(w, t, round, t.name() + " is not running: " + t.proxy().tail());
        }
        if (w.clients() > t.clientLimit()) {
            return failed(w, t, round, "n/a: " + t.limitReason());
        }
        try {
            return w.kind() == Kind.PGBENCH ? pgbench(w, t, round) : copy(w, t, round);
        } catch (IOException | UncheckedIOException e) {
            return failed(w, t, round, "failed: " + e.getMessage());
        }
    }

    /**
     * Unrecorded runs, so that pgwarden's JIT and every proxy's pool are warm before the first measurement: 100
     * clients (more than the pool, so the waiting path is compiled too) in each given pgbench mode.
     */
    String warmUp(Target t, int seconds, List<String> modes) throws IOException {
        List<String> results = new ArrayList<>();
        for (String mode : modes) {
            results.add(mode + " " + warmUpRun(t, seconds, List.of("-S", "-M", mode, "-c", "100", "-j", "2")));
        }
        return String.join(", ", results);
    }

    /**
     * An unrecorded connection storm (10 clients, -C), so that the login path, and with TLS the handshake, is
     * compiled before it is measured.
     */
    String warmUpConnecting(Target t, int seconds) throws IOException {
        return "-C " + warmUpRun(t, seconds, List.of("-C", "-S", "-M", "simple", "-c", "10", "-j", "10"));
    }

    private String warmUpRun(Target t, int seconds, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(pgbench, "-h", "127.0.0.1", "-p", Integer.toString(t.port()),
                "-U", Postgres.USER, "-n", "-T", Integer.toString(seconds)));
        cmd.addAll(args);
        cmd.add(Postgres.DATABASE);
        Processes.Result r = Processes.run(cmd, workDir, seconds + 60, env);
        Matcher tps = TPS.matcher(r.output());
        return r.exitCode() == 0 && tps.find() ? tps.group(1) + " tps"
                : "failed (" + r.describeExit() + "): " + lastLine(r.output());
    }

    private Run pgbench(Workload w, Target t, int round) throws IOException {
        Path logDir = Files.createTempDirectory(workDir, "txlog");
        // pgbench's -T clock runs while it opens its connections, one SCRAM login at a time per thread (several
        // seconds for 2000 clients); a second per 100 clients keeps that from eating the run. Its TPS figure
        // excludes the connection phase either way.
        int seconds = duration + (w.clients() > 100 ? (w.clients() + 99) / 100 : 0);
        List<String> cmd = new ArrayList<>(List.of(pgbench, "-h", "127.0.0.1", "-p", Integer.toString(t.port()),
                "-U", Postgres.USER, "-n", "-c", Integer.toString(w.clients()),
                "-j", Integer.toString(Math.min(2, w.clients())), "-T", Integer.toString(seconds),
                "-l", "--log-prefix", logDir.resolve("tx").toString(), "--sampling-rate", Double.toString(SAMPLING_RATE)));
        cmd.addAll(w.pgbenchArgs());
        cmd.add(Postgres.DATABASE);
        ProxyMeter m = ProxyMeter.start(t.proxy(), perf, perfMissing, workDir);
        Processes.Result r = Processes.run(cmd, workDir, seconds + 180, env);
        m.stop();
        SteadyWindow window = SteadyWindow.read(logDir, SETTLE_SECONDS, MINIMUM_WINDOW_SECONDS);
        deleteTree(logDir);
        Matcher tps = TPS.matcher(r.output());
        Matcher processed = PROCESSED.matcher(r.output());
        String error = r.output().lines()
                .filter(l -> l.contains("error") || l.contains("aborted") || l.contains("FATAL"))
                .findFirst().orElse(null);
        if (r.exitCode() != 0 || error != null || !tps.find() || !processed.find()) {
            String reason = error != null ? error : r.describeExit() + ": " + lastLine(r.output());
            if (error == null && processed.reset().find() && processed.group(1).equals("0")) {
                reason = "no transaction completed within -T " + seconds + " (connecting the clients took it all)";
            }
            keepForDiagnosis(cmd, r.output());
            return failed(w, t, round, "failed: " + reason.replaceFirst("^pgbench: error: ", ""));
        }
        double steadyTps = window.tps(SAMPLING_RATE);
        double pgbenchTps = Double.parseDouble(tps.group(1));
        if (window.wholeRun()) {
            // Too short to cut: pgbench's own figures, as before.
            ProxyMeter.Counters c = m.whole();
            return new Run(w, t, round, pgbenchTps, Long.parseLong(processed.group(1)), window.latenciesMs(),
                    c.cpuSeconds(), m.peakRssMb, null, pgbenchTps, window.seconds(), c);
        }
        ProxyMeter.Counters c = m.between(window.startEpochSeconds(), window.endEpochSeconds());
        return new Run(w, t, round, steadyTps, steadyTps * window.seconds(), window.latenciesMs(),
                c.cpuSeconds(), m.peakRssMb, null, pgbenchTps, window.seconds(), c);
    }

    private Run copy(Workload w, Target t, int round) throws IOException {
        String sql;
        if (w.kind() == Kind.COPY_OUT) {
            sql = "\\copy (SELECT repeat('x', 100) FROM generate_series(1, " + copyRows + ")) TO '/dev/null'";
        } else {
            prepareCopyIn(t);
            sql = "\\copy copy_in FROM '" + copyInFile + "'";
        }
        ProxyMeter m = ProxyMeter.start(t.proxy(), perf, perfMissing, workDir);
        long start = System.nanoTime();
        Processes.Result r = Processes.run(psqlCommand(t.port(), sql), workDir, 600, env);
        double seconds = (System.nanoTime() - start) / 1e9;
        m.stop();
        if (r.exitCode() != 0) {
            keepForDiagnosis(psqlCommand(t.port(), sql), r.output());
            return failed(w, t, round, "failed: " + r.describeExit() + ": " + lastLine(r.output()));
        }
        double bytes = copyRows * 101.0; // 100 characters and a newline per row
        return new Run(w, t, round, bytes / seconds / 1e6, bytes, new double[] {seconds * 1000}, m.cpuSeconds,
                m.peakRssMb, null, Double.NaN, Double.NaN, m.whole());
    }

    /** The COPY-in file is written once; the table is emptied (directly, untimed) before each run. */
    private void prepareCopyIn(Target t) throws IOException {
        if (copyInFile == null) {
            copyInFile = workDir.resolve("copy-in.txt");
            byte[] line = ("x".repeat(100) + "\n").getBytes();
            byte[] block = new byte[line.length * 10_000];
            for (int i = 0; i < 10_000; i++) {
                System.arraycopy(line, 0, block, i * line.length, line.length);
            }
            try (var out = Files.newOutputStream(copyInFile)) {
                for (long written = 0; written < copyRows; written += 10_000) {
                    out.write(block, 0, (int) Math.min(10_000, copyRows - written) * line.length);
                }
            }
        }
        Processes.Result r = Processes.run(psqlCommand(t.port(), "TRUNCATE copy_in"), workDir, 60, env);
        if (r.exitCode() != 0) {
            throw new IOException("TRUNCATE copy_in: " + lastLine(r.output()));
        }
    }

    private List<String> psqlCommand(int port, String sql) {
        return List.of(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", Postgres.USER, "-d", Postgres.DATABASE, "-c", sql);
    }

    /** libpq settings for every client: no TLS or GSS probing, which none of the targets offers. */
    static Map<String, String> env() {
        return Map.of("PGPASSWORD", Postgres.PASSWORD, "PGSSLMODE", "disable", "PGGSSENCMODE", "disable");
    }

    /** libpq settings for the TLS matrix: TLS or nothing, as a client configured with sslmode=require. */
    static Map<String, String> tlsEnv() {
        return Map.of("PGPASSWORD", Postgres.PASSWORD, "PGSSLMODE", "require", "PGGSSENCMODE", "disable");
    }

    /** Failed runs' full output goes to failures.log in the results directory, to be read after the run. */
    private void keepForDiagnosis(List<String> command, String output) throws IOException {
        Files.createDirectories(failureLog.getParent());
        Files.writeString(failureLog, "$ " + String.join(" ", command) + "\n" + output + "\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    private static Run failed(Workload w, Target t, int round, String reason) {
        return new Run(w, t, round, Double.NaN, Double.NaN, new double[0], Double.NaN, Double.NaN, reason);
    }

    private static String lastLine(String output) {
        List<String> lines = output.strip().lines().toList();
        return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
