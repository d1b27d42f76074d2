package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.protocol.auth.ScramSecret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Acceptance 3 of issue 16: a YAML user whose password is the SCRAM verifier copied from pg_authid logs in to
 * PostgreSQL by pass-through (the ClientKey recovered from the client's proof); with a verifier PostgreSQL does not
 * hold, the login fails and says why. Also md5 hashes, and what a verifier cannot answer.
 */
class StoredSecretPassThroughTest {

    static final String ROLE = "h16a_pass";
    static final String PASSWORD = "h16a pass-through secret";

    private static String verifier;

    @BeforeAll
    static void createRole() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + ROLE);
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + PASSWORD + "'");
            verifier = storedSecret(s, ROLE);
        }
    }

    @AfterAll
    static void dropRole() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + ROLE + "'");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backendsOf(ROLE) == 0);
            s.execute("DROP ROLE IF EXISTS " + ROLE);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void theVerifierFromPgAuthidLogsInByPassThroughAndSurvivesALostBackend(String mode) throws Exception {
        assertThat(verifier).startsWith("SCRAM-SHA-256$4096:");
        try (TestProxy proxy = proxyWith(ROLE, verifier, "scram-sha-256", mode, "");
             Connection c = proxy.connect(ROLE, PASSWORD)) {
            assertThat(currentUser(c)).isEqualTo(ROLE);

            assertThat(terminateBackendsOf(ROLE)).isPositive();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backendsOf(ROLE) == 0);
            if (mode.equals("transaction")) {
                // No client logs in again: the pool logs in with the ClientKey it kept from the first one.
                Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                        .until(() -> currentUser(c).equals(ROLE));
                assertThat(currentUser(c)).isEqualTo(ROLE);
            }
            try (Connection again = proxy.connect(ROLE, PASSWORD)) {
                assertThat(currentUser(again)).isEqualTo(ROLE);
            }
        }
    }

    @Test
    void aClientCheckedByCleartextOrMd5AgainstTheVerifierLeavesTheKeyToo() throws SQLException {
        // md5 with a SCRAM secret stored means SCRAM, as in PostgreSQL; cleartext is checked against the verifier.
        for (String auth : new String[] {"cleartext", "md5"}) {
            try (TestProxy proxy = proxyWith(ROLE, verifier, auth, "transaction", "");
                 Connection c = proxy.connect(ROLE, PASSWORD)) {
                assertThat(currentUser(c)).as(auth).isEqualTo(ROLE);
            }
        }
    }

    @Test
    void psqlLogsInByPassThrough() throws Exception {
        try (TestProxy proxy = proxyWith(ROLE, verifier, "scram-sha-256", "transaction", "")) {
            Result result = psql(proxy.port(), ROLE, PASSWORD, "SELECT current_user");
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.output().strip()).isEqualTo(ROLE);
        }
    }

    @Test
    void aVerifierWithAnotherSaltFailsAndTheClientAndTheLogSayWhy() {
        String otherSalt = ScramSecret.generate(PASSWORD).toPgSecret();
        String why = "SCRAM pass-through needs PostgreSQL's own verifier: the server's salt differs from "
                + storedFor(ROLE);
        try (LogCapture logs = new LogCapture();
             TestProxy proxy = proxyWith(ROLE, otherSalt, "scram-sha-256", "transaction", "")) {
            assertThatThrownBy(() -> proxy.connect(ROLE, PASSWORD).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains(why);
                    });
            assertThat(logs.lines("event=server_login_failed")).anySatisfy(line -> assertThat(line).contains(why));
            assertThat(logs.lines("")).noneMatch(line -> line.contains(otherSalt.substring(20, 40)));
        }
    }

    @Test
    void aWrongPasswordAgainstAStoredVerifierGetsTodaysAnswer() {
        try (TestProxy proxy = proxyWith(ROLE, verifier, "scram-sha-256", "transaction", "")) {
            assertThatThrownBy(() -> proxy.connect(ROLE, "not " + PASSWORD).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("password authentication failed for user \"" + ROLE
                                + "\"");
                    });
        }
    }

    @Test
    void anMd5HashFromPgAuthidLogsInToAnMd5Role() throws SQLException {
        String hash;
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            hash = storedSecret(s, "md5user");
        }
        assertThat(hash).startsWith("md5");
        try (TestProxy proxy = proxyWith("md5user", hash, "md5", "transaction", "");
             Connection c = proxy.connect("md5user", TestPostgres.MD5_PASSWORD)) {
            assertThat(currentUser(c)).isEqualTo("md5user");
        }
    }

    @Test
    void aServerAskingForMd5CannotBeAnsweredFromAVerifier() {
        // md5user's pg_hba.conf line says md5, and PostgreSQL holds an md5 hash for it: it asks for md5.
        String md5Verifier = ScramSecret.generate(TestPostgres.MD5_PASSWORD).toPgSecret();
        assertLoginFailsSaying("md5user", md5Verifier, "scram-sha-256", TestPostgres.MD5_PASSWORD, "",
                "the server asks for an md5 password, which the SCRAM verifier in " + storedFor("md5user")
                        + " cannot answer: SCRAM pass-through needs PostgreSQL to ask for SCRAM");
    }

    @Test
    void aServerAskingForACleartextPasswordCannotBeAnsweredFromAnMd5Hash() throws SQLException {
        String hash;
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement()) {
            hash = storedSecret(s, "clearuser");
        }
        assertLoginFailsSaying("clearuser", hash, "md5", TestPostgres.CLEARTEXT_PASSWORD,
                "server:\n    allow_cleartext_password: true",
                "the server asks for a cleartext password, which the md5 hash in " + storedFor("clearuser")
                        + " cannot answer");
    }

    @Test
    void aServerAskingForScramCannotBeAnsweredFromAnMd5Hash() {
        String hash = io.pgwarden.protocol.auth.Md5Password.storedHash(ROLE, PASSWORD);
        assertLoginFailsSaying(ROLE, hash, "md5", PASSWORD, "",
                "the server asks for SCRAM, which the md5 hash in " + storedFor(ROLE) + " cannot answer");
    }

    private static void assertLoginFailsSaying(String user, String secret, String auth, String password,
                                               String defaults, String why) {
        try (LogCapture logs = new LogCapture();
             TestProxy proxy = proxyWith(user, secret, auth, "transaction", defaults)) {
            assertThatThrownBy(() -> proxy.connect(user, password).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains(why));
            assertThat(logs.lines("event=server_login_failed")).anySatisfy(line -> assertThat(line).contains(why));
        }
    }

    @Test
    void minSizeAndReadinessWaitForTheFirstClientThenThePoolFills() throws Exception {
        try (LogCapture logs = new LogCapture();
             TestProxy proxy = proxyWith(ROLE, verifier, "scram-sha-256", "transaction", "min_size: 2",
                     "admin:\n  http:\n    port: 0\n")) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !logs.lines("event=pass_through_deferred")
                    .isEmpty());
            assertThat(logs.lines("event=pass_through_deferred").get(0)).contains("has no client key yet");
            // Ready, or an orchestrator would send no client, and no client would ever make it ready.
            HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + proxy.application().httpAddress().getPort() + "/ready"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            assertThat(logs.lines("event=server_login_failed")).isEmpty();
            assertThat(logs.lines("event=pass_through_deferred")).hasSize(1);
            try (Connection c = proxy.connect(ROLE, PASSWORD)) {
                assertThat(currentUser(c)).isEqualTo(ROLE);
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backendsOf(ROLE) >= 2);
        }
    }

    static TestProxy proxyWith(String user, String secret, String auth, String mode, String defaults) {
        return proxyWith(user, secret, auth, mode, defaults, "");
    }

    static TestProxy proxyWith(String user, String secret, String auth, String mode, String defaults,
                               String topLevel) {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  pool_mode: %s
                  %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  %s:
                    password: '%s'
                    auth: %s
                %s
                """.formatted(mode, defaults, user, secret, auth, topLevel);
        return TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
    }

    static String storedSecret(Statement s, String role) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + role + "'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static int backendsOf(String role) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int terminateBackendsOf(String role) throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE"
                     + " usename = '" + role + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static String currentUser(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    record Result(int exitCode, String output) {
    }

    /** psql with the password in PGPASSWORD, as a user would give it, printing bare values. */
    static Result psql(int port, String user, String password, String sql) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(CommandLineClientsTest.clientBinary("psql").toString(),
                "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", user,
                "-d", "appdb", "-c", sql)).redirectErrorStream(true);
        builder.environment().putAll(Map.of("PGPASSWORD", password, "PGCONNECT_TIMEOUT", "10"));
        Process process = builder.start();
        try {
            byte[] out = process.getInputStream().readAllBytes();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
        } finally {
            process.destroyForcibly();
        }
    }

    /** How the errors name where a role's stored secret comes from. */
    private static String storedFor(String role) {
        return "the secret stored for " + role + " (users." + role + ".password, or auth.query's answer)";
    }
}
