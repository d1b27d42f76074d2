package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.Main;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code pgwarden scram-verifier}: the verifier it prints for a password read from stdin is one PostgreSQL accepts
 * with ALTER ROLE ... PASSWORD, and pgwarden logs in with by pass-through.
 */
class ScramVerifierCommandTest {

    private static final String ROLE = "h16a_cli";
    private static final String PASSWORD = "h16a cli secret";

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new Main()).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void theVerifierOfAPasswordOnStdinLetsPsqlLogInDirectlyAndThroughPgwarden() throws Exception {
        Run run = run(PASSWORD + "\n", "scram-verifier", "--stdin");
        assertThat(run.exitCode()).as(run.err()).isZero();
        String verifier = run.out().strip();
        assertThat(verifier).startsWith("SCRAM-SHA-256$4096:").doesNotContain(PASSWORD);

        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + ROLE);
            s.execute("CREATE ROLE " + ROLE + " LOGIN");
            s.execute("ALTER ROLE " + ROLE + " PASSWORD '" + verifier + "'");
        }
        try {
            StoredSecretPassThroughTest.Result direct = StoredSecretPassThroughTest.psql(TestPostgres.shared().port(),
                    ROLE, PASSWORD, "SELECT current_user");
            assertThat(direct.exitCode()).as(direct.output()).isZero();
            assertThat(direct.output().strip()).isEqualTo(ROLE);
            try (TestProxy proxy = StoredSecretPassThroughTest.proxyWith(ROLE, verifier, "scram-sha-256",
                    "transaction", "")) {
                StoredSecretPassThroughTest.Result through = StoredSecretPassThroughTest.psql(proxy.port(), ROLE,
                        PASSWORD, "SELECT current_user");
                assertThat(through.exitCode()).as(through.output()).isZero();
                assertThat(through.output().strip()).isEqualTo(ROLE);
            }
        } finally {
            try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + ROLE + "'");
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> StoredSecretPassThroughTest.backendsOf(ROLE) == 0);
                s.execute("DROP ROLE IF EXISTS " + ROLE);
            }
        }
    }

    @Test
    void stdinIsReadWhenItIsNotATerminalAndIterationsCanBeSet() {
        // Under the test runner there is no console: no --stdin needed.
        Run run = run(PASSWORD + "\r\n", "scram-verifier", "--iterations", "10000");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out().strip()).matches("SCRAM-SHA-256\\$10000:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+");
    }

    @Test
    void anEmptyPasswordIsRefused() {
        Run run = run("\n", "scram-verifier");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("the password is empty");
    }

    @Test
    void thePasswordIsNeverTakenFromAnArgument() {
        Run run = run(PASSWORD + "\n", "scram-verifier", "secret-on-the-command-line");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("Unmatched argument");
    }

    @Test
    void theProxyItselfStillNeedsItsConfig() {
        Run run = run("");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required option: '--config=FILE'");
    }
}
