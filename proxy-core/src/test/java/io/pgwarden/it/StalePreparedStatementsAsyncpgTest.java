package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 2, with asyncpg: the same program directly and through pgwarden in transaction mode, across an
 * ALTER TABLE that turns a date column into a time column. Skipped, with the reason printed, where asyncpg cannot
 * be installed from the local wheelhouse.
 */
class StalePreparedStatementsAsyncpgTest {

    private static final Path WHEELS = Path.of("/opt/pypi/files");
    private static final Path VENV = Path.of("target", "asyncpg-venv");
    private static Path python;

    @BeforeAll
    static void installAsyncpg() throws Exception {
        Path candidate = VENV.resolve("bin").resolve("python");
        if (!Files.isExecutable(candidate) || run(List.of(candidate.toString(), "-c", "import asyncpg")).exit != 0) {
            skipUnless(Files.isDirectory(WHEELS), "no local wheelhouse at " + WHEELS);
            Result venv = run(List.of("python3", "-m", "venv", VENV.toString()));
            skipUnless(venv.exit == 0, "python3 -m venv failed: " + venv.output);
            Result pip = run(List.of(VENV.resolve("bin").resolve("pip").toString(), "install", "-q", "--no-index",
                    "--find-links", WHEELS.toString(), "asyncpg"));
            skipUnless(pip.exit == 0, "asyncpg could not be installed from " + WHEELS + ": " + pip.output);
        }
        python = candidate;
    }

    private static void skipUnless(boolean condition, String reason) {
        if (!condition) {
            System.out.println("StalePreparedStatementsAsyncpgTest skipped: " + reason);
        }
        Assumptions.assumeTrue(condition, reason);
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("pgwarden-asyncpg", ".out");
        try {
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(output.toFile()).start();
            } catch (IOException e) {
                return new Result(-1, e.getMessage());
            }
            process.getOutputStream().close();
            boolean exited = process.waitFor(120, TimeUnit.SECONDS);
            if (!exited) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            return exited ? new Result(process.exitValue(), text) : new Result(-1, "timed out: " + command + "\n" + text);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static String program(int port) throws Exception {
        Path script = Path.of(StalePreparedStatementsAsyncpgTest.class
                .getResource("/stale-prepared/asyncpg_date_to_time.py").toURI());
        Result result = run(List.of(python.toString(), script.toString(), String.valueOf(port),
                String.valueOf(TestPostgres.shared().port()), TestPostgres.APP_PASSWORD));
        assertThat(result.exit).as(result.output).isZero();
        return result.output;
    }

    @Test
    void aStatementPreparedAfterAlterSeesTheNewTypesAndAnOutdatedOneIsPreparedAgainAsDirectly() throws Exception {
        String directly = program(TestPostgres.shared().port());
        assertThat(directly).contains("B columns [('d', 'time')]", "B params ['time']",
                "A datetime.time(12, 34, 56)");
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1")) {
            assertThat(program(proxy.port())).isEqualTo(directly);
        }
    }
}
