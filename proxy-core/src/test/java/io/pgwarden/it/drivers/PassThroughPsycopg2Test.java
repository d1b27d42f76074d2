package io.pgwarden.it.drivers;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 16 acceptance 3 with psycopg2 (libpq): a user configured with the SCRAM verifier copied from pg_authid
 * logs in through pgwarden, which logs in to PostgreSQL by pass-through. Skipped, with the reason printed, when
 * psycopg2 cannot be installed ({@link DriverToolchain}).
 */
class PassThroughPsycopg2Test {

    private static final String ROLE = "h16a_py";
    private static final String PASSWORD = "h16a psycopg2 secret";
    private static final String CLIENT = """
            import sys, psycopg2
            conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), dbname='appdb', user=sys.argv[2],
                                    password=sys.argv[3])
            cur = conn.cursor()
            cur.execute('SELECT current_user')
            print(cur.fetchone()[0], flush=True)
            conn.close()
            """;

    private static String verifier;

    @BeforeAll
    static void createRole() throws Exception {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + ROLE);
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + PASSWORD + "'");
            try (ResultSet rs = s.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + ROLE + "'")) {
                rs.next();
                verifier = rs.getString(1);
            }
        }
    }

    @AfterAll
    static void dropRole() throws Exception {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + ROLE + "'");
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '"
                        + ROLE + "'")) {
                    rs.next();
                    return rs.getInt(1) == 0;
                }
            });
            s.execute("DROP ROLE IF EXISTS " + ROLE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void psycopg2LogsInByPassThrough(String mode) throws Exception {
        DriverCases.assumeInstalled(Driver.PSYCOPG2);
        Path script = Files.writeString(Files.createTempFile("passthrough", ".py"), CLIENT);
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  pool_mode: %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  %s:
                    password: '%s'
                """.formatted(mode, ROLE, verifier);
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port())) {
            Process p = new ProcessBuilder(DriverToolchain.get().python().toString(), script.toString(),
                    String.valueOf(proxy.port()), ROLE, PASSWORD).redirectErrorStream(true).start();
            try {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(out).isZero();
                assertThat(out.strip()).isEqualTo(ROLE);
            } finally {
                p.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
