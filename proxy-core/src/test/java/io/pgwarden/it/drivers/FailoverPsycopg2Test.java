package io.pgwarden.it.drivers;

import static io.pgwarden.it.drivers.DriverCases.assumeInstalled;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.pgwarden.it.FailoverWorkload;
import io.pgwarden.it.ReplicatedPostgres;
import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Issue 17 acceptance 6: the seed's psycopg2 application (six workers on a ThreadedConnectionPool, think 0-3 s)
 * through pgwarden while the primary is stopped fast and the standby promoted. Workers that were between
 * transactions when the switch began see no error at all; the others at most one each.
 */
class FailoverPsycopg2Test {

    @Test
    void workersIdleAtTheSwitchSeeNoError() throws Exception {
        assumeInstalled(Driver.PSYCOPG2);
        DriverToolchain toolchain = DriverToolchain.get();
        try (ReplicatedPostgres cluster = ReplicatedPostgres.start();
             TestProxy proxy = FailoverWorkload.proxyFor(cluster)) {
            Path stderr = Files.createTempFile("failover_psycopg2", ".err");
            ProcessBuilder builder = new ProcessBuilder(toolchain.python().toString(),
                    toolchain.programs().resolve("failover_psycopg2.py").toString())
                    .directory(toolchain.programs().toFile()).redirectError(stderr.toFile());
            builder.environment().put("DSN", "postgresql://app:" + TestPostgres.APP_PASSWORD + "@127.0.0.1:"
                    + proxy.port() + "/appdb");
            builder.environment().put("ADMIN_DSN", "postgresql://postgres@127.0.0.1:" + cluster.port(cluster.b())
                    + "/appdb");
            builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            Process app = builder.start();
            try {
                BlockingQueue<String> lines = readLines(app);
                Writer commands = new OutputStreamWriter(app.getOutputStream(), StandardCharsets.UTF_8);
                expect(lines, "ready", 90, stderr);
                commands.write("switch\n");
                commands.flush();
                expect(lines, "switching", 10, stderr);
                cluster.stopFast(cluster.a());
                cluster.promote(cluster.b());
                commands.write("promoted\n");
                commands.flush();
                String result = next(lines, 90, stderr);
                assertThat(app.waitFor(30, TimeUnit.SECONDS)).isTrue();
                System.out.println("failover psycopg2: " + result.replaceAll("\"acknowledged\": \\[[^]]*], ", ""));
                Map<String, Object> seen = new Yaml().load(result);

                @SuppressWarnings("unchecked")
                List<Map<String, Object>> errors = (List<Map<String, Object>>) seen.get("errors");
                @SuppressWarnings("unchecked")
                List<Integer> commitsSincePromotion = (List<Integer>) seen.get("commits_since_promotion");
                assertThat(errors).as("errors of workers idle at the switch")
                        .allSatisfy(e -> assertThat(e.get("in_transaction_at_switch")).as("%s", e).isEqualTo(true));
                assertThat(errors.stream().map(e -> e.get("worker")).toList()).as("at most one error per worker")
                        .doesNotHaveDuplicates();
                assertThat(commitsSincePromotion).as("every worker committed on the new primary")
                        .allSatisfy(n -> assertThat(n).isPositive());
                assertThat(missingOn(cluster, (List<?>) seen.get("acknowledged")))
                        .as("acknowledged commits missing on the new primary").isEmpty();
            } finally {
                app.destroyForcibly();
                app.waitFor(10, TimeUnit.SECONDS);
                Files.deleteIfExists(stderr);
            }
        }
    }

    private static Set<Long> missingOn(ReplicatedPostgres cluster, List<?> acknowledged) throws Exception {
        Set<Long> present = new HashSet<>();
        try (Connection c = DriverManager.getConnection(cluster.url(cluster.b(), "appdb"), "app",
                TestPostgres.APP_PASSWORD); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM failover_p2")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        Set<Long> missing = new HashSet<>();
        for (Object id : acknowledged) {
            long value = ((Number) id).longValue();
            if (!present.contains(value)) {
                missing.add(value);
            }
        }
        return missing;
    }

    /** The program's stdout, line by line, read on a thread of its own so that every wait here is bounded. */
    private static BlockingQueue<String> readLines(Process app) {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(app.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process ended; next() reports what it said
            }
        }, "failover-psycopg2-stdout");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    private static void expect(BlockingQueue<String> lines, String expected, int seconds, Path stderr)
            throws Exception {
        assertThat(next(lines, seconds, stderr)).isEqualTo(expected);
    }

    private static String next(BlockingQueue<String> lines, int seconds, Path stderr) throws Exception {
        String line = lines.poll(seconds, TimeUnit.SECONDS);
        if (line == null) {
            fail("the psycopg2 application said nothing for %d s; stderr:%n%s", seconds, Files.readString(stderr));
        }
        return line;
    }
}
