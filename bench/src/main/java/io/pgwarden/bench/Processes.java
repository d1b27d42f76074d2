package io.pgwarden.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Small helpers for the external programs the harness runs: every wait is bounded. */
final class Processes {

    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private Processes() {
    }

    static boolean isRoot() {
        return ROOT;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** PostgreSQL and PgBouncer refuse to run as root; the Debian packages' postgres user runs them instead. */
    static List<String> asPostgresUser(List<String> command) {
        if (!ROOT) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    static void makeAccessibleToPostgresUser(Path dir) throws IOException {
        if (ROOT) {
            giveToPostgresUser(dir);
            runChecked(List.of("chmod", "755", dir.toString()), dir, 30);
        }
    }

    /** Ownership only: a data directory must stay 0700, or PostgreSQL refuses to start. */
    static void giveToPostgresUser(Path dir) throws IOException {
        if (ROOT) {
            runChecked(List.of("chown", "-R", "postgres", dir.toString()), dir, 30);
        }
    }

    /** Runs a command to completion (at most timeoutSeconds), returns stdout+stderr, throws if it failed. */
    static String runChecked(List<String> command, Path dir, int timeoutSeconds) throws IOException {
        Result r = run(command, dir, timeoutSeconds, null);
        if (r.exitCode != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + r.describeExit() + "): "
                    + r.output.strip());
        }
        return r.output;
    }

    record Result(int exitCode, boolean timedOut, String output) {
        String describeExit() {
            return timedOut ? "timed out" : "exit " + exitCode;
        }
    }

    /** Runs a command with an optional PGPASSWORD-style environment, killing it after timeoutSeconds. */
    static Result run(List<String> command, Path dir, int timeoutSeconds, java.util.Map<String, String> env)
            throws IOException {
        Path log = Files.createTempFile(dir, "cmd", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        if (env != null) {
            pb.environment().putAll(env);
        }
        Process p = pb.start();
        boolean timedOut = false;
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                timedOut = true;
                stop(p.toHandle(), 5);
            }
        } catch (InterruptedException e) {
            stop(p.toHandle(), 5);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        Files.deleteIfExists(log);
        return new Result(timedOut ? -1 : p.exitValue(), timedOut, out);
    }

    /** SIGTERM, then SIGKILL after graceSeconds; children first, so nothing is left behind. */
    static void stop(ProcessHandle process, int graceSeconds) {
        process.descendants().forEach(d -> stop(d, graceSeconds));
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            process.onExit().get(graceSeconds, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
        }
    }

    /** A tool from PATH, else from `pg_config --bindir` (Debian keeps some PostgreSQL programs off PATH). */
    static String findTool(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        for (String extra : new String[] {"/usr/sbin", "/usr/local/sbin"}) {
            if (Files.isExecutable(Path.of(extra, name))) {
                return Path.of(extra, name).toString();
            }
        }
        try {
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            Result r = run(List.of("pg_config", "--bindir"), tmp, 10, null);
            Path candidate = Path.of(r.output.strip(), name);
            if (r.exitCode == 0 && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        } catch (IOException e) {
            // no pg_config: the tool is simply not there
        }
        return null;
    }

    /** First line of a program's output, e.g. its version; "unknown" when it cannot be run. */
    static String firstLine(List<String> command) {
        try {
            Result r = run(command, Path.of(System.getProperty("java.io.tmpdir")), 20, null);
            return r.output.lines().findFirst().orElse("unknown").strip();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
