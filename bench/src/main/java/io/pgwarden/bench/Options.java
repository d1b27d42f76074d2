package io.pgwarden.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Command-line options, parsed by hand: a dozen flags do not need a framework. */
final class Options {
    Path pgBin;
    boolean quick;
    boolean help;
    /** The TLS matrix ({@link TlsMatrix}) instead of the plain-text one. */
    boolean tls;
    /** The footprint runs ({@link FootprintBench}) instead of the plain-text matrix. */
    boolean footprint;
    List<String> footprintSets = List.of();
    boolean footprintNmt;
    int footprintStarts;
    /** Seconds of unrecorded pgbench before a set's 100-client run: C2 compiles for longer than C1 does. */
    int footprintWarmUp = 5;
    Path footprintLogs;
    /** The command line, as given, for the footprint report. */
    List<String> args = List.of();
    int duration = 12;
    int rounds = 2;
    List<Integer> clients = List.of(10, 100, 500, 2000);
    List<String> modes = List.of("simple", "extended", "prepared");
    List<String> kinds = List.of("select", "tpcb", "storm", "copy", "idle");
    long copyRows = 2_000_000;
    int idleClients = 10_000;
    Path out = Path.of("bench/results");
    Path pgwardenJar = Path.of("proxy-core/target/pgwarden.jar");
    List<String> pgwardenJvm = List.of();
    int pgwardenThreads;
    /**
     * listen.transport values: pgwarden runs once per transport, as targets pgwarden-&lt;transport&gt;, and the
     * results go to syscalls.md; empty for one pgwarden with its default transport (results.md).
     */
    List<String> transports = List.of();
    /** Count system calls with perf; off to measure CPU without the tracepoint's own cost. */
    boolean perf = true;

    static Options parse(String[] args) {
        Options o = new Options();
        // --tls and --quick first, so that explicit options given with them still win.
        if (Arrays.asList(args).contains("--tls")) {
            o.tls = true;
            // Three targets, three workloads, two rounds: 15 s per point keeps the whole matrix near 10 minutes.
            o.duration = 15;
        }
        o.args = List.of(args);
        if (Arrays.asList(args).contains("--footprint")) {
            o.footprint = true;
            // A set's 100-client run gives its TPS; one round already gives every RSS figure.
            o.duration = 10;
            o.rounds = 1;
        }
        if (Arrays.asList(args).contains("--quick")) {
            o.quick = true;
            o.duration = 3;
            o.rounds = 1;
            o.clients = List.of(10, 100);
            o.copyRows = 200_000;
            o.idleClients = 1_000;
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick", "--tls", "--footprint" -> { }
                case "--footprint-sets" -> o.footprintSets = Arrays.stream(value(args, ++i, a).split(","))
                        .map(String::strip).toList();
                case "--footprint-nmt" -> o.footprintNmt = true;
                case "--footprint-warmup" -> o.footprintWarmUp = positive(value(args, ++i, a), a);
                case "--footprint-starts" -> o.footprintStarts = positive(value(args, ++i, a), a);
                case "--footprint-logs" -> o.footprintLogs = Path.of(value(args, ++i, a)).toAbsolutePath();
                case "-h", "--help" -> o.help = true;
                case "--pg-bin" -> o.pgBin = Path.of(value(args, ++i, a));
                case "--duration" -> o.duration = positive(value(args, ++i, a), a);
                case "--rounds" -> o.rounds = positive(value(args, ++i, a), a);
                case "--clients" -> o.clients = Arrays.stream(value(args, ++i, a).split(","))
                        .map(s -> positive(s.strip(), a)).toList();
                case "--modes" -> o.modes = list(value(args, ++i, a), a, List.of("simple", "extended", "prepared"));
                case "--workloads" -> o.kinds = list(value(args, ++i, a), a,
                        List.of("select", "tpcb", "storm", "copy", "idle"));
                case "--idle-clients" -> o.idleClients = positive(value(args, ++i, a), a);
                case "--copy-mb" -> o.copyRows = positive(value(args, ++i, a), a) * 1_000_000L / 101;
                case "--out" -> o.out = Path.of(value(args, ++i, a));
                case "--pgwarden-jar" -> o.pgwardenJar = Path.of(value(args, ++i, a));
                case "--no-perf" -> o.perf = false;
                case "--transports" -> o.transports = list(value(args, ++i, a), a,
                        List.of("auto", "io_uring", "epoll", "nio"));
                case "--pgwarden-threads" -> o.pgwardenThreads = positive(value(args, ++i, a), a);
                case "--pgwarden-jvm" -> o.pgwardenJvm = List.of(value(args, ++i, a).trim().split("\\s+"));
                default -> throw new IllegalArgumentException("unknown option: " + a);
            }
        }
        // pgwarden runs in its own work directory, so the paths it is given must not be relative.
        o.pgwardenJar = o.pgwardenJar.toAbsolutePath();
        o.out = o.out.toAbsolutePath();
        return o;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int positive(String s, String option) {
        try {
            int v = Integer.parseInt(s);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + ": not a positive number: " + s);
    }

    private static List<String> list(String s, String option, List<String> allowed) {
        List<String> values = Arrays.stream(s.split(",")).map(String::strip).toList();
        for (String v : values) {
            if (!allowed.contains(v)) {
                throw new IllegalArgumentException(option + ": " + v + " is not one of " + allowed);
            }
        }
        return values;
    }
}
