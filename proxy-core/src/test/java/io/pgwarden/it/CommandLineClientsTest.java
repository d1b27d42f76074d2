package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Acceptance 7: psql and pgbench, libpq's own tools, work through pgwarden. Skipped (with the reason shown)
 * only where the PostgreSQL client binaries are not installed.
 */
class CommandLineClientsTest {

    private static TestProxy proxy;

    @BeforeAll
    static void startProxy() {
        proxy = TestProxy.start("pool_mode: transaction\nmax_size: 5");
    }

    @AfterAll
    static void stopProxy() {
        proxy.close();
    }

    @Test
    void psqlRunsScriptsThroughTheProxy() throws Exception {
        Path psql = clientBinary("psql");
        Result result = run(List.of(psql.toString(), "-X", "-v", "ON_ERROR_STOP=1", "-A", "-t",
                "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", "app", "-d", "appdb",
                "-c", "CREATE TEMP TABLE t AS SELECT generate_series(1, 10) AS g",
                "-c", "SELECT sum(g) FROM t",
                "-c", "SELECT current_setting('server_version_num')::int >= 170000"));
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("55").contains("t");
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void pgbenchCompletesEveryTransaction(String protocol) throws Exception {
        Path pgbench = clientBinary("pgbench");
        List<String> common = List.of("-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", "app");
        Result init = run(concat(List.of(pgbench.toString(), "-i", "-s", "1", "-q"), common, List.of("appdb")));
        assertThat(init.exitCode()).as(init.output()).isZero();
        // With -M prepared, pgbench prepares each statement synchronously the first time, blocking its whole
        // thread; inside a multi-statement transaction over a pool smaller than the client count that stalls
        // pgbench itself (the other clients of that thread hold backends and cannot proceed), so the prepared
        // run uses the select-only script, whose transactions are single statements.
        List<String> script = protocol.equals("prepared") ? List.of("-S") : List.of();
        Result bench = run(concat(List.of(pgbench.toString(), "-M", protocol, "-c", "20", "-j", "2", "-t", "100", "-n"),
                script, common, List.of("appdb")));
        assertThat(bench.exitCode()).as(bench.output()).isZero();
        assertThat(bench.output()).contains("number of transactions actually processed: 2000/2000");
        assertThat(bench.output()).contains("number of failed transactions: 0");
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(Map.of("PGPASSWORD", TestPostgres.APP_PASSWORD, "PGCONNECT_TIMEOUT", "10"));
        Process process = builder.start();
        try {
            byte[] out = process.getInputStream().readAllBytes();
            assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s finished", command.get(0)).isTrue();
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }

    /** Finds a PostgreSQL client program on PATH or in {@code pg_config --bindir}. */
    static Path clientBinary(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        try {
            Process p = new ProcessBuilder("pg_config", "--bindir").start();
            String dir = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            Path candidate = Path.of(dir, name);
            if (p.waitFor(10, TimeUnit.SECONDS) && Files.isExecutable(candidate)) {
                return candidate;
            }
        } catch (IOException | InterruptedException e) {
            // fall through to the skip below
        }
        String reason = name + " is not installed (PostgreSQL client binaries absent): skipping";
        System.out.println("SKIPPED: " + reason);
        assumeTrue(false, reason);
        return null;
    }
}
