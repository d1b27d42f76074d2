package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * TLS from pgwarden to PostgreSQL ({@code server.tls}) against a PostgreSQL with {@code ssl=on} whose pg_hba.conf
 * accepts only {@code hostssl}: what connects, what is refused and where the reason for a refusal shows.
 */
class ServerTlsTest {

    private static Path dir;
    private static Path caFile;
    private static Path otherCaFile;
    private static Path clientCert;
    private static ThrowawayCa ca;
    private static TlsPostgres pg;

    @BeforeAll
    static void startPostgres() throws IOException {
        dir = Files.createTempDirectory("pgwarden-server-tls");
        ca = ThrowawayCa.create("pgwarden test CA");
        caFile = ca.writeCertificate(dir.resolve("ca.crt"));
        otherCaFile = ThrowawayCa.create("some other CA").writeCertificate(dir.resolve("other-ca.crt"));
        Path serverCert = ca.server("postgres", List.of("localhost"), List.of("127.0.0.1")).write(dir, "server");
        clientCert = ca.client("certuser").write(dir, "certuser");
        pg = TlsPostgres.start(serverCert, dir.resolve("server.key"), caFile);
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
        deleteTree(dir);
    }

    private static String yaml(String serverSection, String appdbExtra) {
        return """
                listen:
                  host: 127.0.0.1
                  port: 0
                defaults:
                  server:
                    connect_timeout: 5s
                %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                %s
                users:
                  app:
                    password: ${APP_PASSWORD}
                  certuser:
                    password: cert-user-secret
                  admin:
                    password: admin-secret
                admin:
                  users: [admin]
                  http:
                    port: 0
                """.formatted(serverSection.indent(4).stripTrailing(), appdbExtra.indent(4).stripTrailing());
    }

    private static TestProxy proxy(String serverSection) {
        return TestProxy.fromYaml(() -> yaml(serverSection, ""), pg.port());
    }

    @Test
    void verifyFullConnectsEncryptedAndBindsTheScramLoginToTheChannel() throws Exception {
        try (DebugLog sasl = new DebugLog("io.pgwarden.backend.BackendLogin");
             TestProxy proxy = proxy("tls:\n  mode: verify-full\n  ca_file: " + caFile);
             Connection c = proxy.connect()) {
            assertThat(queryOne(c, "SELECT ssl::text || ' ' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .startsWith("true TLSv1.");
            // PostgreSQL checked the binding (a wrong one fails the login); the log says it was used at all.
            assertThat(sasl.lines("event=server_sasl")).singleElement().asString()
                    .contains("mechanism=SCRAM-SHA-256-PLUS");
        }
    }

    @Test
    void scramPassThroughBindsTheLoginToTheChannelToo() throws Exception {
        String verifier;
        try (Connection c = pg.superuser("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")) {
            rs.next();
            verifier = rs.getString(1);
        }
        String yaml = yaml("tls:\n  mode: verify-full\n  ca_file: " + caFile, "")
                .replace("password: ${APP_PASSWORD}", "password: '" + verifier + "'");
        try (DebugLog sasl = new DebugLog("io.pgwarden.backend.BackendLogin");
             TestProxy proxy = TestProxy.fromYaml(() -> yaml, pg.port());
             Connection c = proxy.connect()) {
            assertThat(queryOne(c, "SELECT current_user || ' ' || ssl::text FROM pg_stat_ssl"
                    + " WHERE pid = pg_backend_pid()")).isEqualTo("app true");
            assertThat(sasl.lines("event=server_sasl")).singleElement().asString()
                    .contains("mechanism=SCRAM-SHA-256-PLUS");
        }
    }

    @Test
    void theOpensslProviderChecksAndBindsAsTheJdkOneDoes() throws Exception {
        assertThat(io.netty.handler.ssl.OpenSsl.isAvailable()).as("netty-tcnative loads here").isTrue();
        try (DebugLog sasl = new DebugLog("io.pgwarden.backend.BackendLogin");
             TestProxy proxy = proxy("tls:\n  mode: verify-full\n  provider: openssl\n  ca_file: " + caFile);
             Connection c = proxy.connect()) {
            assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .isEqualTo("true");
            assertThat(sasl.lines("event=server_sasl")).singleElement().asString()
                    .contains("mechanism=SCRAM-SHA-256-PLUS");
        }
        try (TestProxy proxy = proxy("tls:\n  mode: verify-full\n  provider: openssl\n  ca_file: " + otherCaFile)) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("unknown CA").contains(otherCaFile.toString()));
        }
    }

    @Test
    void aCancelReachesAStatementRunningOnAnEncryptedBackend() throws Exception {
        try (TestProxy proxy = proxy("tls:\n  mode: verify-full\n  ca_file: " + caFile);
             Connection c = proxy.connect(); Statement s = c.createStatement()) {
            java.util.concurrent.CompletableFuture<SQLException> outcome =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            s.execute("SELECT pg_sleep(30)");
                            return null;
                        } catch (SQLException e) {
                            return e;
                        }
                    });
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (Connection watcher = pg.superuser("appdb"); Statement w = watcher.createStatement();
                     ResultSet rs = w.executeQuery("SELECT count(*) FROM pg_stat_activity "
                             + "WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")) {
                    rs.next();
                    return rs.getInt(1) == 1;
                }
            });
            s.cancel();
            SQLException e = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat((Throwable) e).as("the statement was cancelled").isNotNull();
            assertThat(e.getSQLState()).isEqualTo("57014");
        }
    }

    @Test
    void theDefaultPreferEncryptsWhenTheServerOffersTls() throws Exception {
        try (TestProxy proxy = proxy(""); Connection c = proxy.connect()) {
            assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .isEqualTo("true");
        }
    }

    @Test
    void aCertificateFromAnUnknownCaIsRefusedAndTheReasonReachesClientLogAndReady() throws Exception {
        try (LogCapture log = new LogCapture();
             TestProxy proxy = proxy("tls:\n  mode: verify-ca\n  ca_file: " + otherCaFile)) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("unknown CA").contains(otherCaFile.toString()));
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(log.lines("event=server_open_failed")).anyMatch(line -> line.contains("unknown CA")));
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                HttpResponse<String> ready = http(proxy, "/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("unknown CA");
            });
            try (Connection admin = admin(proxy)) {
                assertThat(queryOne(admin, "SHOW POOLS", "last_connect_error")).contains("unknown CA");
            }
        }
    }

    @Test
    void aCaFileReplacedOnDiskIsUsedByTheNextConnect() throws Exception {
        Path rotated = Files.copy(otherCaFile, dir.resolve("rotated-ca.crt"));
        try (TestProxy proxy = proxy("tls:\n  mode: verify-full\n  ca_file: " + rotated)) {
            assertThatThrownBy(() -> proxy.connect().close()).hasMessageContaining("unknown CA");
            // Bigger than the old file as well as newer, so a coarse file clock cannot hide the change.
            Files.writeString(rotated, Files.readString(caFile) + Files.readString(otherCaFile));
            try (Connection c = proxy.connect()) {
                assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                        .isEqualTo("true");
            }
        }
    }

    @Test
    void aCertificateWithoutTheHostInItsNamesFailsVerifyFullWithAHostNameReason() throws Exception {
        Path elsewhere = Files.createDirectory(dir.resolve("elsewhere"));
        Path cert = ca.server("db.internal", List.of("db.internal"), List.of()).write(elsewhere, "server");
        try (TlsPostgres other = TlsPostgres.start(cert, elsewhere.resolve("server.key"), caFile);
             LogCapture log = new LogCapture();
             TestProxy proxy = TestProxy.fromYaml(() -> yaml("tls:\n  mode: verify-full\n  ca_file: " + caFile, ""),
                     other.port())) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("host name mismatch").contains("\"127.0.0.1\"").contains("db.internal"));
            Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                    log.lines("event=server_open_failed")).anyMatch(line -> line.contains("host name mismatch")));
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(http(proxy, "/ready").body()).contains("host name mismatch"));

            // verify-ca checks the chain only, and server_name makes verify-full check the name the certificate has.
            try (TestProxy chainOnly = TestProxy.fromYaml(() -> yaml("tls:\n  mode: verify-ca\n  ca_file: " + caFile,
                    ""), other.port()); Connection c = chainOnly.connect()) {
                assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                        .isEqualTo("true");
            }
            try (TestProxy named = TestProxy.fromYaml(() -> yaml("tls:\n  mode: verify-full\n  ca_file: " + caFile
                    + "\n  server_name: db.internal", ""), other.port()); Connection c = named.connect()) {
                assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                        .isEqualTo("true");
            }
        }
    }

    @Test
    void aClientCertificateLogsInWithCertAuthenticationConfiguredForOneDatabase() throws Exception {
        String appdbTls = """
                server:
                  tls:
                    cert_file: %s
                    key_file: %s
                """.formatted(clientCert, dir.resolve("certuser.key"));
        try (TestProxy proxy = TestProxy.fromYaml(() -> yaml("tls:\n  mode: verify-full\n  ca_file: " + caFile,
                appdbTls), pg.port());
             Connection c = proxy.connect("certuser", "cert-user-secret")) {
            assertThat(queryOne(c, "SELECT current_user || ' ' || client_dn FROM pg_stat_ssl "
                    + "WHERE pid = pg_backend_pid()")).isEqualTo("certuser /CN=certuser");
        }
    }

    @Test
    void withoutTlsTheHostsslOnlyServerRefusesAndTheClientIsToldWhy() {
        try (TestProxy proxy = proxy("tls:\n  mode: disable")) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("no encryption"));
        }
    }

    @Test
    void preferFallsBackToPlainTextAgainstAServerWithoutTls() throws Exception {
        try (TestProxy proxy = TestProxy.start("server:\n  tls:\n    mode: prefer");
             Connection c = proxy.connect()) {
            assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .isEqualTo("false");
        }
        try (TestProxy proxy = TestProxy.start("server:\n  tls:\n    mode: require")) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("server does not support SSL, but SSL was required"));
        }
    }

    @Test
    void allowTriesPlainTextFirstAndTlsWhenTheServerRefusesIt() throws Exception {
        try (LogCapture log = new LogCapture();
             TestProxy proxy = proxy("tls:\n  mode: allow"); Connection c = proxy.connect()) {
            assertThat(queryOne(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                    .isEqualTo("true");
            assertThat(log.lines("event=server_tls_retry")).singleElement().asString()
                    .contains("encrypted=true").contains("no encryption");
        }
    }

    @Test
    void preferWhoseTlsIsRefusedRetriesInPlainTextAndReportsBothFailures() {
        try (TestProxy proxy = proxy("tls:\n  mode: prefer\n  ca_file: " + otherCaFile)) {
            assertThatThrownBy(() -> proxy.connect().close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                            .contains("unknown CA").contains("retried without TLS").contains("no encryption"));
        }
    }

    private static String queryOne(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from " + sql).isTrue();
            return rs.getString(1);
        }
    }

    private static String queryOne(Connection c, String sql, String column) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from " + sql).isTrue();
            return rs.getString(column);
        }
    }

    private static Connection admin(TestProxy proxy) throws SQLException {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return proxy.connect("pgwarden", "admin", "admin-secret", simple);
    }

    private static HttpResponse<String> http(TestProxy proxy, String path) throws Exception {
        var address = proxy.application().httpAddress();
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + address.getPort() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void deleteTree(Path root) throws IOException {
        if (root == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Debug lines of one logger while open; the level goes back afterwards. */
    private static final class DebugLog implements AutoCloseable {
        private final Logger logger;
        private final Level before;
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        DebugLog(String name) {
            logger = (Logger) LoggerFactory.getLogger(name);
            before = logger.getLevel();
            logger.setLevel(Level.DEBUG);
            appender.start();
            logger.addAppender(appender);
        }

        List<String> lines(String part) {
            synchronized (appender.list) {
                return new ArrayList<>(appender.list.stream().map(ILoggingEvent::getFormattedMessage)
                        .filter(m -> m.contains(part)).toList());
            }
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
            logger.setLevel(before);
        }
    }
}
