package io.pgwarden.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A proxy under test (pgwarden or PgBouncer) running as a separate process, so that its own CPU time and memory
 * can be read from /proc/&lt;pid&gt; without counting the harness, pgbench or PostgreSQL.
 */
final class Proxy implements AutoCloseable {

    /** Clock ticks per second for /proc/&lt;pid&gt;/stat; `getconf CLK_TCK`, 100 on practically every Linux. */
    private static final long CLOCK_TICKS = clockTicks();

    /**
     * What the Dockerfile runs pgwarden with (JAVA_TOOL_OPTIONS), so the benchmark measures that; all but the
     * class-data archive, which only the image has. Chosen from bench/results/footprint.md.
     */
    static final List<String> RECOMMENDED_JVM_OPTIONS = List.of("-Xms16m", "-Xmx96m",
            "-XX:MaxDirectMemorySize=64m", "-XX:+UseShenandoahGC", "-XX:ShenandoahGCHeuristics=compact",
            "-XX:-TieredCompilation", "-XX:CICompilerCount=1", "-XX:+ExitOnOutOfMemoryError");

    /** pgwarden's -Xlog:gc file, in its work directory. */
    static final String GC_LOG = "pgwarden-gc.log";

    private final String name;
    private final Process process;
    private final int port;
    private final Path log;
    /** System.nanoTime() just before the process was started, and when its port first accepted a connection. */
    private final long startedNanos;
    private long listeningNanos;

    private Proxy(String name, Process process, int port, Path log, long startedNanos) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.log = log;
        this.startedNanos = startedNanos;
    }

    /** A certificate and its key that a proxy presents to clients, which it then requires to use TLS. */
    record ClientTls(Path certFile, Path keyFile) {
    }

    /**
     * pgwarden in transaction mode with the same pool limits PgBouncer gets below.
     *
     * @param workerThreads listen.worker_threads, 0 for pgwarden's default
     */
    static Proxy startPgwarden(Path jar, Path workDir, int pgPort, List<String> jvmOptions, int workerThreads)
            throws IOException {
        return startPgwarden("pgwarden", jar, workDir, pgPort, jvmOptions, workerThreads, null, null);
    }

    /**
     * @param tls       null for plain text; else listen.tls with mode require
     * @param provider  listen.tls.provider (jdk or openssl), with tls
     */
    static Proxy startPgwarden(String name, Path jar, Path workDir, int pgPort, List<String> jvmOptions,
                               int workerThreads, ClientTls tls, String provider) throws IOException {
        return startPgwarden(name, jar, workDir, pgPort, jvmOptions, workerThreads, tls, provider, Map.of());
    }

    /** @param env added to pgwarden's environment, e.g. MALLOC_ARENA_MAX */
    static Proxy startPgwarden(String name, Path jar, Path workDir, int pgPort, List<String> jvmOptions,
                               int workerThreads, ClientTls tls, String provider, Map<String, String> env)
            throws IOException {
        return startPgwarden(name, jar, workDir, pgPort, jvmOptions, workerThreads, tls, provider, env, null);
    }

    /** @param transport listen.transport (io_uring, epoll, nio), null for pgwarden's default (auto) */
    static Proxy startPgwarden(String name, Path jar, Path workDir, int pgPort, List<String> jvmOptions,
                               int workerThreads, ClientTls tls, String provider, Map<String, String> env,
                               String transport) throws IOException {
        int port = Processes.freePort();
        Files.createDirectories(workDir);
        Path config = workDir.resolve("pgwarden.yaml");
        String tlsYaml = tls == null ? "" : """
                  tls:
                    mode: require
                    cert_file: %s
                    key_file: %s
                    provider: %s
                """.formatted(tls.certFile(), tls.keyFile(), provider);
        Files.writeString(config, """
                listen:
                  host: 127.0.0.1
                  port: %d
                  max_client_connections: 15000
                  worker_threads: %d
                %s%sdefaults:
                  pool_mode: transaction
                  max_size: 20
                  query_wait_timeout: 120s
                  # pgbench clients sit waiting for a backend by design; the NOTICE would only add noise.
                  query_wait_notice: 0s
                databases:
                  %s:
                    host: 127.0.0.1
                    port: %d
                users:
                  %s:
                    password: %s
                  %s:
                    password: %s
                    auth: md5
                """.formatted(port, workerThreads, transport == null ? "" : "  transport: " + transport + "\n", tlsYaml, Postgres.DATABASE, pgPort, Postgres.USER, Postgres.PASSWORD, IdleClients.USER,
                IdleClients.PASSWORD));
        // A private copy: a rebuild of proxy-core during a long run must not swap the jar under the running JVM.
        // A second start in the same directory reuses it: a class-data archive records the jar's path and time.
        Path copy = workDir.resolve("pgwarden.jar");
        if (!Files.exists(copy)) {
            Files.copy(jar, copy, StandardCopyOption.COPY_ATTRIBUTES);
        }
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(JvmProbe.gcLogOptions(workDir.resolve(GC_LOG)));
        // Options given replace the recommended ones: two collectors on one command line would not start.
        command.addAll(jvmOptions.isEmpty() ? RECOMMENDED_JVM_OPTIONS : jvmOptions);
        command.addAll(List.of("-jar", copy.toString(), "--config", config.toString()));
        Path log = workDir.resolve("pgwarden.log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .directory(workDir.toFile());
        // WARN, like PgBouncer's log_connections = 0 below: INFO writes a line per client login and logout.
        pb.environment().put("PGWARDEN_LOG_LEVEL", "WARN");
        pb.environment().putAll(env);
        long started = System.nanoTime();
        Process p = pb.start();
        Proxy proxy = new Proxy(name, p, port, log, started);
        proxy.awaitListening(60);
        return proxy;
    }

    /**
     * PgBouncer with pgwarden's settings: SCRAM for clients (userlist with the plain password, which it also uses
     * to log in to PostgreSQL), the given pool mode and pool size, 5000 clients. Run in the foreground so that
     * the process we hold is PgBouncer itself; as root it drops to the postgres user (-u), as it insists.
     */
    static Proxy startPgbouncer(String name, String binary, Path workDir, int pgPort, String poolMode, int poolSize)
            throws IOException {
        return startPgbouncer(name, binary, workDir, pgPort, poolMode, poolSize, null);
    }

    /** @param tls null for plain text; else client_tls_sslmode = require with this certificate */
    static Proxy startPgbouncer(String name, String binary, Path workDir, int pgPort, String poolMode, int poolSize,
                                ClientTls tls) throws IOException {
        return startPgbouncer(name, binary, workDir, pgPort, poolMode, poolSize, tls, false);
    }

    /**
     * @param idleClients also admit {@link IdleClients}: its user with MD5 (auth_type md5 with plain passwords in
     *                    the userlist, so app still logs in to PostgreSQL with SCRAM) and 15,000 clients
     */
    static Proxy startPgbouncer(String name, String binary, Path workDir, int pgPort, String poolMode, int poolSize,
                                ClientTls tls, boolean idleClients) throws IOException {
        String tlsIni = tls == null ? "" : """
                client_tls_sslmode = require
                client_tls_cert_file = %s
                client_tls_key_file = %s
                """.formatted(tls.certFile(), tls.keyFile());
        int port = Processes.freePort();
        Path dir = workDir.resolve(name);
        Files.createDirectories(dir);
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(dir.resolve("userlist.txt"), "\"" + Postgres.USER + "\" \"" + Postgres.PASSWORD + "\"\n"
                + (idleClients ? "\"" + IdleClients.USER + "\" \"" + IdleClients.PASSWORD + "\"\n" : ""));
        Files.writeString(ini, """
                [databases]
                %s = host=127.0.0.1 port=%d dbname=%s
                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                auth_type = %s
                auth_file = %s
                pool_mode = %s
                default_pool_size = %d
                max_client_conn = %d
                query_wait_timeout = 120
                ; give idle server connections back soon: the session-mode pool is large
                server_idle_timeout = 10
                unix_socket_dir =
                logfile = %s
                log_connections = 0
                log_disconnections = 0
                %s""".formatted(Postgres.DATABASE, pgPort, Postgres.DATABASE, port,
                idleClients ? "md5" : "scram-sha-256", dir.resolve("userlist.txt"), poolMode, poolSize,
                idleClients ? 15000 : 5000, dir.resolve("pgbouncer.log"), tlsIni));
        Processes.makeAccessibleToPostgresUser(workDir);
        Processes.makeAccessibleToPostgresUser(dir);
        List<String> command = new ArrayList<>(List.of(binary));
        if (Processes.isRoot()) {
            command.addAll(List.of("-u", "postgres"));
        }
        command.add(ini.toString());
        Path log = dir.resolve("stdout.log");
        long started = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .directory(dir.toFile()).start();
        Proxy proxy = new Proxy(name, p, port, log, started);
        proxy.awaitListening(30);
        return proxy;
    }

    private void awaitListening(int seconds) throws IOException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + ": " + tail());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                listeningNanos = System.nanoTime();
                return;
            } catch (IOException notYet) {
                // Every 10 ms, so that the start-up time read from it is that precise.
                sleep(10);
            }
        }
        close();
        throw new IOException(name + " did not listen on port " + port + " within " + seconds + " s: " + tail());
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    /** Seconds from starting the process to the first connection its port accepted. */
    double secondsToListening() {
        return (listeningNanos - startedNanos) / 1e9;
    }

    /** System.nanoTime() just before the process was started. */
    long startedNanos() {
        return startedNanos;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** utime + stime of the process (all its threads) in seconds, from /proc/&lt;pid&gt;/stat. */
    double cpuSeconds() {
        double[] t = cpuTimes();
        return t[0] + t[1];
    }

    /** utime and stime of the process (all its threads) in seconds, from /proc/&lt;pid&gt;/stat; NaN if gone. */
    double[] cpuTimes() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // utime and stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after "state".
            return new double[] {Long.parseLong(f[11]) / (double) CLOCK_TICKS,
                Long.parseLong(f[12]) / (double) CLOCK_TICKS};
        } catch (IOException | RuntimeException e) {
            return new double[] {Double.NaN, Double.NaN};
        }
    }

    /**
     * Voluntary and involuntary context switches of the threads alive now, summed over /proc/&lt;pid&gt;/task/*
     * /status (the process's own status file counts its main thread only); NaN if the process is gone.
     */
    double contextSwitches() {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid()), "task"))) {
            long sum = 0;
            for (Path task : tasks.toList()) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")
                                || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                        }
                    }
                } catch (IOException threadEnded) {
                    // a thread that ended between listing and reading takes its count with it
                }
            }
            return sum;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * Resets the kernel's peak-RSS counter (VmHWM) to the current RSS (writing 5 to clear_refs, Linux 4.0+, needs
     * to own the process or be root), so that {@link #peakRssMb()} after a run is that run's peak.
     */
    boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc", Long.toString(pid()), "clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** VmHWM from /proc/&lt;pid&gt;/status in MB: the peak resident set since start or the last reset. */
    double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone: reported as unknown
        }
        return Double.NaN;
    }

    /** Whether the proxy's log so far has a line containing {@code text}, e.g. a fallback it announced. */
    boolean logContains(String text) {
        try (var lines = Files.lines(log)) {
            return lines.anyMatch(l -> l.contains(text));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() {
        Processes.stop(process.toHandle(), 10);
    }

    private static long clockTicks() {
        String out = Processes.firstLine(List.of("getconf", "CLK_TCK"));
        try {
            return Long.parseLong(out.strip());
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
