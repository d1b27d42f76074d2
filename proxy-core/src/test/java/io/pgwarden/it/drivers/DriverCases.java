package io.pgwarden.it.drivers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.yaml.snakeyaml.Yaml;

/**
 * Runs one driver program case against a target and compares what it saw with what the same case saw against
 * PostgreSQL directly. Through pgwarden each case gets a fresh proxy, so a failure (a leaked setting, a stranded
 * backend) stays in the case that caused it.
 */
final class DriverCases {

    /** A short wait for a backend, so a case whose backend stays held fails in seconds, not in 30. */
    static final String TRANSACTION_POOL_OF_ONE = "pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 5s";
    static final String SESSION_POOL = "pool_mode: session\nmax_size: 10\nquery_wait_timeout: 5s";

    private static final AtomicInteger RUNS = new AtomicInteger();

    private final Map<String, Map<String, Object>> directOutcomes = new HashMap<>();

    /** (driver, target) for every driver given, through pgwarden in both modes. */
    static Stream<Arguments> throughPgwarden(Driver... drivers) {
        return Arrays.stream(drivers).flatMap(d -> Stream.of(Arguments.of(d, Target.TRANSACTION),
                Arguments.of(d, Target.SESSION)));
    }

    static void assumeInstalled(Driver driver) {
        Optional<String> reason = DriverToolchain.get().unavailable(driver);
        assumeTrue(reason.isEmpty(), () -> driver + " is not installed, skipping: " + reason.orElse(""));
    }

    /** The pool a case goes through pgwarden with, unless it needs another. */
    static String poolFor(Target target) {
        return target == Target.TRANSACTION ? TRANSACTION_POOL_OF_ONE : SESSION_POOL;
    }

    /** Asserts that {@code testCase} sees through pgwarden with {@code pool} what it sees directly; returns that. */
    Map<String, Object> sameAsDirect(Driver driver, Target target, String testCase, String pool) {
        assumeInstalled(driver);
        Map<String, Object> direct = direct(driver, testCase, Map.of());
        Map<String, Object> via = through(driver, testCase, target, pool, Map.of());
        assertSameOutcome(driver, target, direct, via, Set.of(), Set.of());
        return direct;
    }

    /** What {@code testCase} sees against PostgreSQL directly (run once per driver and case). */
    Map<String, Object> direct(Driver driver, String testCase, Map<String, String> env) {
        return directOutcomes.computeIfAbsent(driver + "/" + testCase, k -> {
            Map<String, Object> seen = run(driver, testCase, Target.DIRECT, dsn(TestPostgres.shared().port()), env);
            assertThat(seen).as("%s %s against PostgreSQL directly (the reference)", driver, testCase)
                    .doesNotContainKey("_crash");
            return seen;
        });
    }

    /** What {@code testCase} sees through a fresh pgwarden configured with {@code defaults}. */
    Map<String, Object> through(Driver driver, String testCase, Target target, String defaults,
                                Map<String, String> env) {
        try (TestProxy proxy = TestProxy.start(defaults)) {
            return run(driver, testCase, target, dsn(proxy.port()), env);
        }
    }

    /**
     * Asserts that {@code via} saw what {@code direct} saw, key by key, except {@code byDesign} (keys the caller
     * asserts itself). Keys in {@code faults} hold errors of a lost connection: the same SQLSTATE where the direct
     * side has one, and, for drivers where that is comparable, the same error class.
     */
    static void assertSameOutcome(Driver driver, Target target, Map<String, Object> direct, Map<String, Object> via,
                                  Set<String> faults, Set<String> byDesign) {
        String context = driver + " via " + target + "\n  directly: " + direct + "\n  through:  " + via;
        assertThat(via).as(context).doesNotContainKey("_crash");
        Set<String> keys = new TreeSet<>(direct.keySet());
        keys.addAll(via.keySet());
        for (String key : keys) {
            if (key.startsWith("_") || byDesign.contains(key)) {
                continue;
            }
            Object expected = direct.get(key);
            Object actual = via.get(key);
            if (faults.contains(key)) {
                assertSameFault(driver, key, expected, actual, context);
            } else {
                assertThat(actual).as("'%s' in %s", key, context).isEqualTo(expected);
            }
        }
    }

    private static void assertSameFault(Driver driver, String key, Object expected, Object actual, String context) {
        if (expected instanceof List<?> e && actual instanceof List<?> a && e.size() == a.size()) {
            for (int i = 0; i < e.size(); i++) {
                assertSameFault(driver, key + "[" + i + "]", e.get(i), a.get(i), context);
            }
            return;
        }
        String want = String.valueOf(expected);
        String got = String.valueOf(actual);
        if (!want.startsWith("ERR:")) {
            assertThat(got).as("'%s' in %s", key, context).isEqualTo(want);
            return;
        }
        assertThat(got).as("'%s' raises in %s", key, context).startsWith("ERR:");
        String[] w = want.split(":", -1);
        String[] g = got.split(":", -1);
        if (!w[2].isEmpty()) {
            assertThat(g[2]).as("SQLSTATE of '%s' in %s", key, context).isEqualTo(w[2]);
        }
        if (driver.comparesLostConnectionClass || !w[2].isEmpty()) {
            assertThat(g[1].split("/")[0]).as("error class of '%s' in %s", key, context)
                    .isEqualTo(w[1].split("/")[0]);
        }
    }

    private static String dsn(int port) {
        return "postgresql://app:" + TestPostgres.APP_PASSWORD + "@127.0.0.1:" + port + "/appdb";
    }

    private static Map<String, Object> run(Driver driver, String testCase, Target target, String dsn,
                                           Map<String, String> env) {
        DriverToolchain toolchain = DriverToolchain.get();
        List<String> command = toolchain.command(driver, testCase);
        ProcessBuilder builder = new ProcessBuilder(command).directory(toolchain.programs().toFile());
        builder.environment().putAll(env);
        builder.environment().put("DSN", dsn);
        builder.environment().put("ADMIN_DSN", "postgresql://postgres@127.0.0.1:" + TestPostgres.shared().port()
                + "/appdb");
        // Lower case: the programs use it unquoted in table and channel names.
        builder.environment().put("TAG", (driver.name() + "_" + target.name().charAt(0) + "_"
                + ProcessHandle.current().pid() + "_" + RUNS.incrementAndGet()).toLowerCase(java.util.Locale.ROOT));
        builder.environment().put("NODE_PATH", toolchain.nodeModules().toString());
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
            CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("%s %s via %s did not finish in 90 s", driver, testCase, target);
            }
            String out = stdout.get(10, TimeUnit.SECONDS).strip();
            String line = out.isEmpty() ? "" : out.lines().reduce((a, b) -> b).orElse("");
            System.out.println("driver " + driver + " " + testCase + " via " + target + ": " + line);
            if (!line.startsWith("{")) {
                fail("%s %s via %s printed no observations (exit %d); stderr:%n%s", driver, testCase, target,
                        process.exitValue(), stderr.get(10, TimeUnit.SECONDS));
            }
            Map<String, Object> seen = new Yaml().load(line);
            if (seen.containsKey("_crash")) {
                seen.put("_stderr", stderr.get(10, TimeUnit.SECONDS));
            }
            return seen;
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + command, e);
        } catch (Exception e) {
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e);
        }
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static Map<String, String> env(String... keyValues) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            env.put(keyValues[i], keyValues[i + 1]);
        }
        return env;
    }
}
