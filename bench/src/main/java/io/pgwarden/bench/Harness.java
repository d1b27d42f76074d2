package io.pgwarden.bench;

import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Target;
import io.pgwarden.bench.Workloads.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark harness: PostgreSQL, pgwarden and PgBouncer side by side on this machine, pgbench and psql as
 * clients, targets alternated within each round so that drift (thermal, noisy neighbours) hits all of them alike.
 * Writes results.md and tps.png. See {@link #usage()}.
 */
public final class Harness {

    /** Clients a direct run may have; larger direct runs are reported as n/a rather than refused mid-run. */
    private static final int DIRECT_CLIENT_LIMIT = 600;
    /** Pool mode transaction, as for pgwarden: the comparison proper. */
    static final int POOL_SIZE = 20;
    /**
     * The session-mode PgBouncer that stands in for -M prepared needs a server connection per client: with a pool
     * of 20, pgbench's other clients would wait for a session that only ends with pgbench itself (they fail with
     * query_wait_timeout). So its pool holds as many clients as a direct run; larger runs are n/a.
     */
    private static final int SESSION_POOL_SIZE = 520;
    /** Room for a direct run, the session pool, the two transaction pools, the superuser reserve and setup. */
    private static final int MAX_CONNECTIONS = DIRECT_CLIENT_LIMIT + SESSION_POOL_SIZE + 2 * POOL_SIZE + 40;

    private Harness() {
    }

    static String usage() {
        return """
                Usage: java -cp bench/target/pgwarden-demo.jar io.pgwarden.bench.Harness [options]
                  --pg-bin DIR          PostgreSQL binaries (initdb, pg_ctl) instead of the embedded PostgreSQL 17
                  --quick               smoke run: 3 s per run, 1 round, clients 10,100, 20 MB COPY
                  --tls                 the TLS matrix instead (sslmode=require through pgwarden with the JDK
                                        and the OpenSSL provider and through PgBouncer; 15 s per run),
                                        written to tls.md; --workloads, --clients and --modes do not apply
                  --footprint           RSS, GC pauses, start-up and TPS at 100 clients for each JVM option set
                                        (FootprintCandidates) and PgBouncer, written to footprint.md; 10 s per
                                        run, 1 round; --idle-clients (default 10000), --rounds, --duration apply
                  --footprint-sets LIST only these option sets (default all); --pgwarden-jvm adds one named custom
                  --footprint-nmt       also run each set with -XX:NativeMemoryTracking=summary and report jcmd's
                                        VM.native_memory summary at each step
                  --footprint-starts N  after each set's measured start, N more starts measuring start-up alone
                  --footprint-warmup S  seconds of pgbench -S -c 100 before each set's measured run (default 5)
                  --footprint-logs DIR  keep each start's GC, safepoint and pgwarden logs in DIR
                  --duration SECONDS    per run (default 12)
                  --rounds N            rounds, each running every target once per workload (default 2)
                  --clients LIST        select-only client counts (default 10,100,500,2000)
                  --modes LIST          pgbench -M modes for select-only (default simple,extended,prepared)
                  --workloads LIST      any of select,tpcb,storm,copy,idle (default all)
                  --idle-clients N      idle clients held open by the idle workload (default 10000)
                  --copy-mb N           size of the COPY workloads (default 200)
                  --out DIR             where results.md and tps.png go (default bench/results)
                  --pgwarden-jar FILE   default proxy-core/target/pgwarden.jar
                  --pgwarden-jvm OPTS   JVM options for pgwarden, space-separated, instead of the Dockerfile's
                                        (default: the Dockerfile's collector options)
                  --pgwarden-threads N  pgwarden's listen.worker_threads (default: pgwarden's own default)
                  --transports LIST     run pgwarden once per listen.transport (any of io_uring,epoll,nio,auto)
                                        as targets pgwarden-<transport>, alternated with PgBouncer; written
                                        to syscalls.md and syscalls-tps.png instead of results.md
                  --no-perf             do not count system calls (context switches then come from /proc)
                Every run counts each proxy's system calls and context switches per transaction over the steady
                window with `perf stat -e raw_syscalls:sys_enter,context-switches -p PID` (else /proc's context
                switches, and the reason system calls are missing).
                """;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        // The embedded PostgreSQL logs its whole startup at INFO; the harness prints its own progress instead.
        System.setProperty("PGWARDEN_LOG_LEVEL", System.getenv().getOrDefault("PGWARDEN_LOG_LEVEL", "WARN"));
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(usage());
            System.exit(2);
            return;
        }
        if (o.help) {
            System.out.print(usage());
            return;
        }
        System.exit(new Harness().run(o));
    }

    private final List<AutoCloseable> started = new ArrayList<>();
    private volatile boolean stopping;

    /** Closes everything started, newest first; safe to call twice (from finally and the shutdown hook). */
    private synchronized void cleanUp() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                System.err.println("cleanup: " + e.getMessage());
            }
        }
        started.clear();
        // pgbench or psql still running (Ctrl-C mid-run) are our children too.
        ProcessHandle.current().descendants().forEach(p -> Processes.stop(p, 5));
    }

    private synchronized <T extends AutoCloseable> T track(T resource) {
        started.add(resource);
        return resource;
    }

    private int run(Options o) throws Exception {
        String pgbench = Processes.findTool("pgbench");
        String psql = Processes.findTool("psql");
        if (pgbench == null || psql == null) {
            System.err.println("pgbench and psql are needed (Debian: apt-get install -y postgresql-client)");
            return 2;
        }
        if (!Files.isRegularFile(o.pgwardenJar)) {
            System.err.println(o.pgwardenJar + " not found: build it with `mvn -B -q -DskipTests install`");
            return 2;
        }
        String pgbouncer = Processes.findTool("pgbouncer");
        Path work = Files.createTempDirectory("pgwarden-bench");
        // Ctrl-C or kill: stop everything we started and drop the work directory; the main thread then stops too.
        Thread hook = new Thread(() -> {
            stopping = true;
            cleanUp();
            deleteQuietly(work);
        }, "harness-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        List<String> notes = new ArrayList<>();
        String loadAtStart = loadAverage();
        Files.deleteIfExists(o.out.resolve("failures.log"));
        try {
            log("PostgreSQL: starting " + (o.pgBin == null ? "the embedded PostgreSQL" : o.pgBin));
            Postgres pg = track(Postgres.start(o.pgBin, work, MAX_CONNECTIONS));
            log("pgbench -i -s 10 on port " + pg.port());
            Processes.Result init = Processes.run(List.of(pgbench, "-i", "-s", "10", "-q", "-h", "127.0.0.1",
                    "-p", Integer.toString(pg.port()), "-U", Postgres.USER, Postgres.DATABASE), work, 900,
                    Workloads.env());
            if (init.exitCode() != 0) {
                throw new IllegalStateException("pgbench -i failed: " + init.output());
            }
            try (Connection c = pg.superuser(Postgres.DATABASE); Statement s = c.createStatement()) {
                s.execute("CREATE UNLOGGED TABLE copy_in (t text)");
                s.execute("ALTER TABLE copy_in OWNER TO " + Postgres.USER);
                s.execute("VACUUM ANALYZE");
            }
            if (o.tls) {
                return new TlsMatrix(o, pgbench, psql, pgbouncer, work, this::track, () -> stopping).run(pg);
            }
            if (o.footprint) {
                return new FootprintBench(o, pgbench, psql, pgbouncer, work, this::track, () -> stopping).run(pg);
            }

            List<Target> targets = new ArrayList<>();
            targets.add(new Target("direct", pg.port(), null, DIRECT_CLIENT_LIMIT,
                    "direct clients capped at " + DIRECT_CLIENT_LIMIT + " (max_connections " + MAX_CONNECTIONS + ")"));
            List<Target> wardens = new ArrayList<>();
            for (String transport : o.transports.isEmpty() ? java.util.Collections.<String>singletonList(null)
                    : o.transports) {
                String name = transport == null ? "pgwarden" : "pgwarden-" + transport;
                // Each in its own directory: config, log, GC log and jar copy are per process.
                Path dir = transport == null ? work : work.resolve(name);
                Proxy p = track(Proxy.startPgwarden(name, o.pgwardenJar, dir, pg.port(), o.pgwardenJvm,
                        o.pgwardenThreads, null, null, java.util.Map.of(), transport));
                wardens.add(new Target(name, p.port(), p));
                log(name + ": pid " + p.pid() + ", port " + p.port());
            }
            targets.addAll(wardens);
            Proxy warden = wardens.get(0).proxy();
            Target sessionBouncer = null;
            if (pgbouncer != null) {
                Proxy b = track(Proxy.startPgbouncer("pgbouncer", pgbouncer, work, pg.port(), "transaction",
                        POOL_SIZE));
                targets.add(new Target("pgbouncer", b.port(), b));
                log("pgbouncer (transaction mode): pid " + b.pid() + ", port " + b.port());
                if (o.modes.contains("prepared") && o.kinds.contains("select")) {
                    Proxy s = track(Proxy.startPgbouncer("pgbouncer-session", pgbouncer, work, pg.port(), "session",
                            SESSION_POOL_SIZE));
                    sessionBouncer = new Target("pgbouncer-session", s.port(), s, SESSION_POOL_SIZE,
                            "session mode needs a server connection per client (pool " + SESSION_POOL_SIZE + ")");
                    log("pgbouncer (session mode, for -M prepared): pid " + s.pid() + ", port " + s.port());
                }
            } else {
                notes.add("PgBouncer is not installed (apt-get install -y pgbouncer): its columns are empty.");
            }

            Workloads runner = new Workloads(pgbench, psql, work, o.duration, o.copyRows,
                    o.out.resolve("failures.log"));
            int warmUpSeconds = warmUpSeconds(o);
            for (Target t : targets) {
                if (t.proxy() != null) {
                    // PgBouncer 1.18 in transaction mode cannot run -M prepared; it has no JIT to warm either.
                    List<String> modes = wardens.contains(t) ? List.of("simple", "extended", "prepared")
                            : List.of("simple");
                    log("warm-up " + t.name() + ": " + runner.warmUp(t, warmUpSeconds, modes));
                    if (o.kinds.contains("copy")) {
                        // A COPY takes under a second: measured cold, it would mostly measure pgwarden's JIT.
                        for (Workload copy : Workloads.plan(List.of(), List.of(), List.of("copy"), o.copyRows)) {
                            Run r = runner.run(copy, t, 0);
                            log("warm-up " + t.name() + ": " + copy.name() + " " + (r.ok()
                                    ? String.format(Locale.ROOT, "%.0f MB/s", r.throughput()) : r.failure()));
                        }
                    }
                }
            }
            if (sessionBouncer != null) {
                log("warm-up " + sessionBouncer.name() + ": "
                        + runner.warmUp(sessionBouncer, warmUpSeconds, List.of("simple")));
            }

            // After the warm-up, so that pgwarden's event-loop threads, which perf -p must find, all exist.
            String perf = Processes.findTool("perf");
            String perfMissing = o.perf ? PerfStat.probe(perf, warden.pid(), work) : "--no-perf was given";
            runner.countSystemCalls(perf, perfMissing);
            log(perfMissing == null ? "perf stat counts system calls and context switches per run"
                    : "system calls not counted: " + perfMissing + "; context switches from /proc instead");
            if (perfMissing != null) {
                notes.add("System calls were not counted: " + perfMissing + ". Context switches are the threads'"
                        + " voluntary and involuntary switches from /proc/<pid>/task/*/status instead.");
            }

            List<Workload> plan = Workloads.plan(o.clients, o.modes, o.kinds, o.copyRows);
            List<Run> runs = new ArrayList<>();
            for (Workload w : plan) {
                List<Target> these = new ArrayList<>(targets);
                if (w.sessionBouncer()) {
                    // PgBouncer 1.18 has no prepared statements in transaction mode: its session mode stands in.
                    these.removeIf(t -> t.name().equals("pgbouncer"));
                    if (sessionBouncer != null) {
                        these.add(sessionBouncer);
                    }
                }
                for (int round = 1; round <= o.rounds; round++) {
                    for (Target t : these) {
                        if (stopping) {
                            return 130;
                        }
                        Run r = runner.run(w, t, round);
                        runs.add(r);
                        log(String.format(Locale.ROOT, "%-40s %-18s round %d: %s", w.name(), t.name(), round,
                                r.ok() ? String.format(Locale.ROOT, "%.0f %s", r.throughput(), w.unit())
                                        : r.failure()));
                    }
                }
            }

            List<String> sections = new ArrayList<>();
            if (o.kinds.contains("idle") && !stopping) {
                sections.add(IdleWorkload.measure(runner, wardens.get(0), warden, o.idleClients, Harness::log));
            }
            for (Target t : wardens) {
                Path dir = t.name().equals("pgwarden") ? work : work.resolve(t.name());
                sections.add(gcSection(t.name(), dir.resolve(Proxy.GC_LOG)));
            }

            Report report = new Report(runs);
            List<String> facts = new ArrayList<>(facts(pg, pgbouncer, o));
            facts.add(0, "command: bench/run.sh " + String.join(" ", o.args));
            facts.add("load average (1, 5, 15 min) at the start: " + loadAtStart + "; at the end: " + loadAverage()
                    + " (other work on the machine adds noise: compare the ratios within this run)");
            notes.addAll(standardNotes(o));
            notes.add(SYSCALL_NOTE);
            String name = o.transports.isEmpty() ? "results" : "syscalls";
            report.write(o.out, name, o.transports.isEmpty() ? "pgwarden benchmark results"
                    : "pgwarden per transport against PgBouncer: CPU, system calls and context switches per"
                    + " transaction", facts, notes, sections);
            sections.forEach(System.out::println);
            System.out.println();
            System.out.println(report.cpuTable());
            System.out.println(report.summaryTable());
            System.out.println(report.detailTable());
            log("wrote " + o.out.resolve(name + ".md"));
            return 0;
        } finally {
            cleanUp();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is already running
            }
            deleteQuietly(work);
        }
    }

    private static final String SYSCALL_NOTE = "CPU per 1,000 transactions is split into user and system time"
            + " (utime and stime from /proc/<pid>/stat, 10 ms ticks, sampled every 100 ms) over the same steady"
            + " window as TPS. System calls (tracepoint raw_syscalls:sys_enter) and context switches are counted by"
            + " `perf stat -x, -I 100 -e raw_syscalls:sys_enter,context-switches -p PID`, started with each run and"
            + " cut to the window from its 100 ms intervals; -p attaches to the threads alive when it starts"
            + " (pgwarden's event loops exist after the warm-up; PgBouncer has one thread), so io_uring's kernel"
            + " worker threads, if any, are not counted. Counting is done in the kernel, without a record per call.";

    /** /proc/loadavg's first three fields, or "unknown". */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String gcSection(String target, Path gcLog) {
        String pauses;
        try {
            pauses = JvmProbe.pauses(gcLog).describe();
        } catch (IOException e) {
            pauses = "not measured: " + e.getMessage();
        }
        return "## " + target + "'s garbage collection\n\nOver the whole session (warm-up, every run above and the idle"
                + " clients), from its -Xlog:gc file, leaving out the full collections the heap measurement asks"
                + " for: " + pauses + ".\n";
    }

    static List<String> facts(Postgres pg, String pgbouncer, Options o) {
        return List.of(
                "date: " + ZonedDateTime.now().format(DateTimeFormatter.RFC_1123_DATE_TIME),
                "nproc: " + Runtime.getRuntime().availableProcessors() + " (pgbench, PostgreSQL and the proxies share"
                        + " them)",
                "java: " + Processes.firstLine(List.of(ProcessHandle.current().info().command().orElse("java"),
                        "-version")),
                "PostgreSQL: " + pg.version() + " — " + pg.description() + ", max_connections " + pg.maxConnections(),
                "pgbench: " + Processes.firstLine(List.of(Processes.findTool("pgbench"), "--version")),
                "PgBouncer: " + (pgbouncer == null ? "not installed"
                        : Processes.firstLine(List.of(pgbouncer, "--version"))),
                String.format(Locale.ROOT, "runs: %d s each, %d round(s), targets alternated within each round,"
                        + " pgbench -j 2 -n, scale 10", o.duration, o.rounds));
    }

    /**
     * Per mode and target. C2 alone, with one compiler thread, was still compiling the relay after 8 s: the first
     * workload measured (select-only simple, 10 clients) then ran below the later ones.
     */
    private static int warmUpSeconds(Options o) {
        return o.quick ? 3 : 20;
    }

    private static List<String> standardNotes(Options o) {
        return List.of(
                "Both proxies: transaction mode, pool size " + POOL_SIZE + " per (database, user), 5000 max clients,"
                        + " SCRAM-SHA-256"
                        + " for clients and to PostgreSQL, connection logging off; each runs as its own process.",
                "-M prepared against PgBouncer uses a second PgBouncer in **session** mode (row pgbouncer-session),"
                        + " since 1.18 has no prepared statements in transaction mode. Its pool is " + SESSION_POOL_SIZE
                        + " server connections, one per client (with 20, pgbench's other clients wait until"
                        + " query_wait_timeout), so it is a pass-through, not like for like with pgwarden's 20;"
                        + " above " + SESSION_POOL_SIZE + " clients it is n/a.",
                "Before measuring, each proxy gets unrecorded warm-up runs (" + warmUpSeconds(o) + " s each) of"
                        + " pgbench -S with 100 clients: pgwarden in -M simple, extended and prepared (so its JIT has"
                        + " compiled what is measured), PgBouncer in -M simple (to fill its pool); then one COPY out"
                        + " and one COPY in each.",
                "Direct runs are capped at " + DIRECT_CLIENT_LIMIT + " clients (PostgreSQL max_connections "
                        + MAX_CONNECTIONS + " also holds the proxies' pools): larger ones are n/a.",
                "TPS, latency and proxy CPU are taken over a steady window read from pgbench's per-transaction"
                        + " logs (-l --sampling-rate 0.1, one file per pgbench thread): from one second after the"
                        + " last thread's first transaction to the first thread's last one. pgbench's own \"tps = …"
                        + " (without initial connection time)\" still counts the seconds in which one thread runs"
                        + " while the other is logging its clients in, when each proxy is also serving SCRAM logins"
                        + " (PgBouncer derives the key from the plain password at every login, pgwarden caches it);"
                        + " the detail table gives that figure too. TPS is the logged sample scaled by 10 (about 1%"
                        + " sampling error at 10,000 samples). For the connection storm (-C) a transaction includes"
                        + " its reconnection. Runs with more than 100 clients get -T plus one second per 100"
                        + " clients, because pgbench's clock runs while it opens its connections.",
                "Latency percentiles are pooled over the rounds; they include time spent waiting for a pooled"
                        + " backend.",
                "Proxy CPU is utime+stime from /proc/<pid>/stat, sampled every 100 ms; peak RSS is VmHWM from"
                        + " /proc/<pid>/status,"
                        + " reset before each run via /proc/<pid>/clear_refs (max over the rounds). The reset only lowers it to the current RSS,"
                        + " and neither JVM heap nor PgBouncer's buffers shrink back, so it never falls below what an"
                        + " earlier, larger run left resident.",
                "COPY rows: " + o.copyRows + " rows of 100 characters through psql \\copy (out to /dev/null, in to an"
                        + " unlogged table emptied before each run); MB/s is wall-clock time including psql's start.");
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
        } catch (Exception e) {
            // a temp dir left behind is harmless
        }
    }

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    static void log(String message) {
        System.out.println("[" + java.time.LocalTime.now().format(CLOCK) + "] " + message);
    }
}
