package io.pgwarden.bench;

import io.pgwarden.bench.Workloads.Kind;
import io.pgwarden.bench.Workloads.Run;
import io.pgwarden.bench.Workloads.Target;
import io.pgwarden.bench.Workloads.Workload;
import java.io.IOException;
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
 * The TLS workloads ({@code --tls}): clients with sslmode=require through pgwarden with each of its TLS
 * providers (the JDK's SSLEngine and netty-tcnative's BoringSSL) and through PgBouncer, all three presenting the
 * same certificate, in the same run with the targets alternated. Plain text to PostgreSQL behind them, so that
 * only the client side's TLS differs from the plain-text matrix.
 */
final class TlsMatrix {

    static final String JDK = "pgwarden-jdk";
    static final String OPENSSL = "pgwarden-openssl";
    static final String BOUNCER = "pgbouncer";

    private final Options o;
    private final String pgbench;
    private final String psql;
    private final String pgbouncer;
    private final Path work;
    private final UnaryOperator<Proxy> track;
    private final BooleanSupplier stopping;

    /**
     * @param track    registers a started proxy for the harness's clean-up
     * @param stopping true once the harness is being stopped (Ctrl-C)
     */
    TlsMatrix(Options o, String pgbench, String psql, String pgbouncer, Path work, UnaryOperator<Proxy> track,
              BooleanSupplier stopping) {
        this.o = o;
        this.pgbench = pgbench;
        this.psql = psql;
        this.pgbouncer = pgbouncer;
        this.work = work;
        this.track = track;
        this.stopping = stopping;
    }

    /** What the issue asks for: pgbench -S at 10 and 100 clients, and a storm of TLS logins. */
    static List<Workload> plan() {
        return List.of(
                new Workload("TLS select-only -M simple -c 10", Kind.PGBENCH, 10, List.of("-S", "-M", "simple"),
                        false),
                new Workload("TLS select-only -M simple -c 100", Kind.PGBENCH, 100, List.of("-S", "-M", "simple"),
                        false),
                // A handshake, a SCRAM login and one query per transaction; a thread per client as in the
                // plain-text storm, so that one client's blocking connect does not stall the others.
                new Workload("TLS connection storm -C -S -c 10 -j 10", Kind.PGBENCH, 10,
                        List.of("-C", "-S", "-M", "simple", "-j", "10"), false));
    }

    int run(Postgres pg) throws Exception {
        List<String> facts = new ArrayList<>(Harness.facts(pg, pgbouncer, o));
        List<String> notes = new ArrayList<>();
        facts.add("load average (1, 5, 15 min) before starting the proxies: " + loadAverage());
        Proxy.ClientTls tls = TlsCertificates.generate(work.resolve("tls"));
        facts.add("certificate: " + TlsCertificates.KEY_DESCRIPTION + "; "
                + Processes.firstLine(List.of(Processes.findTool("openssl"), "version")) + " made it");

        List<Target> targets = new ArrayList<>();
        for (String provider : List.of("jdk", "openssl")) {
            String name = provider.equals("jdk") ? JDK : OPENSSL;
            Proxy p = track.apply(Proxy.startPgwarden(name, o.pgwardenJar, work.resolve(name), pg.port(),
                    o.pgwardenJvm, o.pgwardenThreads, tls, provider));
            Harness.log(name + ": pid " + p.pid() + ", port " + p.port() + ", listen.tls.provider " + provider);
            if (p.logContains("event=tls_provider")) {
                notes.add("**" + name + " fell back to the JDK provider** (its log has event=tls_provider ..."
                        + " using=jdk): its figures are the JDK's.");
            }
            targets.add(new Target(name, p.port(), p));
        }
        if (pgbouncer != null) {
            Proxy b = track.apply(Proxy.startPgbouncer(BOUNCER, pgbouncer, work, pg.port(), "transaction",
                    Harness.POOL_SIZE, tls));
            Harness.log("pgbouncer (transaction mode, client_tls_sslmode = require): pid " + b.pid() + ", port "
                    + b.port());
            targets.add(new Target(BOUNCER, b.port(), b));
        } else {
            notes.add("PgBouncer is not installed (apt-get install -y pgbouncer): its columns are empty.");
        }

        for (Target t : targets) {
            facts.add(t.name() + ": " + session(t));
        }
        Workloads runner = new Workloads(pgbench, psql, work, o.duration, 0, o.out.resolve("failures.log"),
                Workloads.tlsEnv());
        // 20 s: with C2 alone on one compiler thread, the TLS path (SslHandler, the JNI engine) was still being
        // compiled after 8 s, and the first measured rounds were the slowest.
        int warmUpSeconds = o.quick ? 3 : 20;
        for (Target t : targets) {
            Harness.log("warm-up " + t.name() + ": " + runner.warmUp(t, warmUpSeconds, List.of("simple")) + ", "
                    + runner.warmUpConnecting(t, warmUpSeconds));
        }
        facts.add("load average after the warm-up, before the first measured run: " + loadAverage());

        List<Run> runs = new ArrayList<>();
        for (Workload w : plan()) {
            for (int round = 1; round <= o.rounds; round++) {
                // Each round starts with another target, so that none is always the one that follows a switch.
                for (int i = 0; i < targets.size(); i++) {
                    Target t = targets.get((i + round - 1) % targets.size());
                    if (stopping.getAsBoolean()) {
                        return 130;
                    }
                    Run r = runner.run(w, t, round);
                    runs.add(r);
                    Harness.log(String.format(Locale.ROOT, "%-40s %-18s round %d: %s", w.name(), t.name(), round,
                            r.ok() ? String.format(Locale.ROOT, "%.0f tps", r.throughput()) : r.failure()));
                }
            }
        }
        facts.add("load average at the end: " + loadAverage());

        Path file = o.out.resolve("tls.md");
        String md = TlsReport.markdown(new Report(runs), plan(), facts, notes);
        Files.createDirectories(o.out);
        Files.writeString(file, md);
        System.out.println(md);
        Harness.log("wrote " + file);
        return 0;
    }

    /**
     * What libpq negotiated with the target (psql's \conninfo: protocol and cipher), and whether the target binds
     * the SCRAM login to the TLS connection (a login with channel_binding=require succeeds).
     */
    private String session(Target t) throws IOException {
        List<String> conninfo = List.of(psql, "-X", "-h", "127.0.0.1", "-p", Integer.toString(t.port()), "-U",
                Postgres.USER, "-d", Postgres.DATABASE, "-c", "\\conninfo");
        Processes.Result r = Processes.run(conninfo, work, 60, Workloads.tlsEnv());
        String ssl = r.output().lines().filter(l -> l.startsWith("SSL connection")).findFirst()
                .orElse("no TLS session (" + r.describeExit() + "): " + r.output().strip());
        Map<String, String> bound = new HashMap<>(Workloads.tlsEnv());
        bound.put("PGCHANNELBINDING", "require");
        Processes.Result cb = Processes.run(List.of(psql, "-X", "-h", "127.0.0.1", "-p", Integer.toString(t.port()),
                "-U", Postgres.USER, "-d", Postgres.DATABASE, "-Atc", "SELECT 1"), work, 60, bound);
        return ssl + "; SCRAM channel binding: " + (cb.exitCode() == 0 ? "yes (SCRAM-SHA-256-PLUS)" : "no");
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + ", " + f[1] + ", " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
