package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 16, acceptance 1: a config with no users: section, only auth: (a non-superuser through the README's
 * SECURITY DEFINER function, its password from the environment) and databases."*". psql, pgjdbc and pgbench log in
 * as three PostgreSQL roles with SCRAM passwords to two databases the config does not name, in both pool modes;
 * every backend logs in by SCRAM pass-through, so no password of theirs is anywhere in pgwarden's config.
 */
class NoUsersInConfigTest {

    private static final String AUTH_USER = "h16e_auth";
    private static final String AUTH_PASSWORD = "h16e-auth-pw";
    private static final List<String> DATABASES = List.of("h16e_one", "h16e_two");
    private static final Map<String, String> ROLES = Map.of(
            "h16e_jdbc", "jdbc-pw", "h16e_psql", "psql-pw", "h16e_bench", "bench-pw");

    @BeforeAll
    static void createRolesAndDatabases() throws SQLException {
        dropAll();
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + AUTH_USER + " LOGIN PASSWORD '" + AUTH_PASSWORD + "'");
            for (Map.Entry<String, String> role : ROLES.entrySet()) {
                s.execute("CREATE ROLE " + role.getKey() + " LOGIN PASSWORD '" + role.getValue() + "'");
            }
            for (String database : DATABASES) {
                s.execute("CREATE DATABASE " + database);
            }
        }
        for (String database : DATABASES) {
            try (Connection c = DriverManager.getConnection(TestPostgres.shared().directUrl(database), "postgres", "");
                 Statement s = c.createStatement()) {
                // The README's function, as written there: without auth.database, each database answers for itself.
                s.execute(AuthQueryTest.readmeFunction().replace("TO pgwarden_auth", "TO " + AUTH_USER));
                s.execute("CREATE TABLE h16e_t (id int)");
                s.execute("GRANT ALL ON h16e_t TO " + String.join(", ", ROLES.keySet()));
            }
        }
    }

    @AfterAll
    static void dropAll() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename LIKE 'h16e\\_%' "
                    + "OR datname LIKE 'h16e\\_%'");
            for (String database : DATABASES) {
                s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
            for (String role : ROLES.keySet()) {
                s.execute("DROP ROLE IF EXISTS " + role);
            }
            s.execute("DROP ROLE IF EXISTS " + AUTH_USER);
        }
    }

    private static String config(String poolMode) {
        return """
                listen: {host: 127.0.0.1, port: 0, worker_threads: 2}
                databases:
                  "*":
                    host: 127.0.0.1
                    port: ${PG_PORT}
                    pool_mode: %s
                    max_size: 4
                auth:
                  user: %s
                  password: ${AUTH_PASSWORD}
                  query: SELECT * FROM pgwarden.user_lookup($1)
                """.formatted(poolMode, AUTH_USER);
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void threeRolesLogInToTwoUnnamedDatabasesWithNoPasswordInTheConfig(String poolMode, @TempDir Path dir)
            throws Exception {
        String yaml = config(poolMode);
        for (String password : ROLES.values()) {
            assertThat(yaml).doesNotContain(password);
        }
        assertThat(yaml).doesNotContain(AUTH_PASSWORD).doesNotContain("users:");
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port(),
                Map.of("AUTH_PASSWORD", AUTH_PASSWORD))) {
            for (String database : DATABASES) {
                Properties props = new Properties();
                try (Connection c = proxy.connect(database, "h16e_jdbc", ROLES.get("h16e_jdbc"), props);
                     Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT current_user || '@' || current_database()")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("h16e_jdbc@" + database);
                }
            }

            Path psql = CommandLineClientsTest.clientBinary("psql");
            for (String database : DATABASES) {
                Result r = run(List.of(psql.toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", "h16e_psql", "-d", database,
                        "-c", "INSERT INTO h16e_t VALUES (1)",
                        "-c", "SELECT current_user || '@' || current_database()"), ROLES.get("h16e_psql"));
                assertThat(r.exitCode()).as(r.output()).isZero();
                assertThat(r.output()).contains("h16e_psql@" + database);
            }

            Path pgbench = CommandLineClientsTest.clientBinary("pgbench");
            Path script = dir.resolve("bench.sql");
            Files.writeString(script, "INSERT INTO h16e_t VALUES (2);\nSELECT count(*) FROM h16e_t;\n");
            Result bench = run(List.of(pgbench.toString(), "-n", "-c", "4", "-j", "2", "-t", "25",
                    "-f", script.toString(), "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()),
                    "-U", "h16e_bench", "h16e_two"), ROLES.get("h16e_bench"));
            assertThat(bench.exitCode()).as(bench.output()).isZero();
            assertThat(bench.output()).contains("number of transactions actually processed: 100/100");
        }
        try (Connection c = DriverManager.getConnection(TestPostgres.shared().directUrl("h16e_two"), "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE id = 2) FROM h16e_t")) {
            rs.next();
            assertThat(rs.getLong(1)).as("pgbench's inserts reached h16e_two").isGreaterThanOrEqualTo(100);
        }
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command, String password) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(Map.of("PGPASSWORD", password, "PGCONNECT_TIMEOUT", "10",
                "PGSSLMODE", "disable"));
        Process process = builder.start();
        try {
            byte[] out = process.getInputStream().readAllBytes();
            assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s finished", command.get(0)).isTrue();
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }
}
