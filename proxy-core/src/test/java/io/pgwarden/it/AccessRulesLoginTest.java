package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.tls.TestCertificates;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * access: rules decide each login by database, user, client address and encryption before any password is asked
 * for, as pg_hba.conf does. Clients connect from 127.0.0.2 as well as 127.0.0.1: Linux's loopback takes any
 * 127/8 source address, and pgjdbc cannot choose its own, so the far side is a raw socket bound to it.
 */
class AccessRulesLoginTest {

    private static final String REFUSED_FROM_2 = "E 28000 pgwarden: no access for host \"127.0.0.2\", user \"app\","
            + " database \"appdb\", no encryption";

    @TempDir
    static Path dir;
    private static TestCertificates certificates;
    private static Path caFile;
    private static Path certFile;
    private static Path keyFile;

    @BeforeAll
    static void certificates() {
        certificates = TestCertificates.newCa();
        caFile = dir.resolve("ca.pem");
        certFile = dir.resolve("server.pem");
        keyFile = dir.resolve("server.key");
        TestCertificates.writeFile(caFile, TestCertificates.pem(certificates.ca().certificate()));
        TestCertificates.write(certificates.server(10), certFile, keyFile);
    }

    private static TestProxy proxy(String listenExtra, String access) {
        return TestProxy.fromYaml(() -> yaml(listenExtra, access), TestPostgres.shared().port());
    }

    private static String yaml(String listenExtra, String access) {
        return """
                listen:
                  host: 127.0.0.1
                  port: 0
                  worker_threads: 2
                %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  trustuser: {password: trust-secret, auth: cleartext}
                admin: {users: [app]}
                %s
                """.formatted(listenExtra.indent(2).stripTrailing(), access);
    }

    private static String tls(String extra) {
        return """
                tls:
                  mode: allow
                  cert_file: %s
                  key_file: %s
                %s""".formatted(certFile, keyFile, extra.indent(2).stripTrailing());
    }

    /** The first answer to a StartupMessage sent from {@code source}: R and the request's code, or E and the error. */
    private static String answer(String source, int port, String user, String database) throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(source, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            return answer(socket, user, database);
        }
    }

    private static String answer(Socket socket, String user, String database) throws IOException {
        socket.setSoTimeout(10_000);
        StartupPacket.send(socket.getOutputStream(), 3 << 16, "user", user, "database", database);
        DataInputStream in = new DataInputStream(socket.getInputStream());
        char type = (char) in.readByte();
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        if (type == 'R') {
            return "R" + java.nio.ByteBuffer.wrap(body).getInt();
        }
        Map<Character, String> fields = new HashMap<>();
        for (int at = 0; at < body.length && body[at] != 0; ) {
            int end = at + 1;
            while (body[end] != 0) {
                end++;
            }
            fields.put((char) body[at], new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8));
            at = end + 1;
        }
        return type + " " + fields.get('C') + " " + fields.get('M');
    }

    private static void selectOne(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    @Test
    void aRejectRuleForACidrRefusesItsAddressesWith28000AndTheLogNamesTheRule() throws Exception {
        try (TestProxy proxy = proxy("", """
                access:
                  - {address: 127.0.0.2/31, method: reject}
                  - {database: pgwarden, user: app, address: 127.0.0.1, tls: required, method: scram-sha-256}
                  - {database: pgwarden, method: reject}
                  - {method: scram-sha-256}
                """); LogCapture log = new LogCapture()) {
            assertThat(answer("127.0.0.2", proxy.port(), "app", "appdb")).isEqualTo(REFUSED_FROM_2);
            assertThat(answer("127.0.0.3", proxy.port(), "app", "appdb")).startsWith("E 28000 ");
            assertThat(log.lines("event=access_refused")).first().asString()
                    .contains("addr=/127.0.0.2:").contains("user=\"app\" database=\"appdb\" tls=false rule=0");
            assertThat(answer("127.0.0.1", proxy.port(), "app", "appdb")).isEqualTo("R10");
            try (Connection c = proxy.connect()) {
                selectOne(c);
            }
            // The admin console is a database like any other to the rules.
            assertThatThrownBy(() -> proxy.connect("pgwarden", "app", TestPostgres.APP_PASSWORD, new Properties()))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains("no access for host \"127.0.0.1\", user \"app\", "
                                + "database \"pgwarden\", no encryption");
                    });
            assertThat(log.lines("event=access_refused")).last().asString().endsWith("rule=2");
        }
    }

    @Test
    void noMatchingRuleRefusesWithTheSameMessageAsARejectRule() throws Exception {
        try (TestProxy proxy = proxy("", """
                access:
                  - {address: 127.0.0.1, method: scram-sha-256}
                """); LogCapture log = new LogCapture()) {
            assertThat(answer("127.0.0.2", proxy.port(), "app", "appdb")).isEqualTo(REFUSED_FROM_2);
            assertThat(log.lines("event=access_refused")).singleElement().asString().endsWith("rule=none");
            try (Connection c = proxy.connect()) {
                selectOne(c);
            }
        }
    }

    @Test
    void aCleartextRuleAsksForTheCleartextPasswordAndPgjdbcLogsIn() throws Exception {
        try (TestProxy proxy = proxy("", """
                access:
                  - {user: app, method: cleartext}
                  - {method: scram-sha-256}
                """)) {
            assertThat(answer("127.0.0.1", proxy.port(), "app", "appdb")).isEqualTo("R3");
            assertThat(answer("127.0.0.1", proxy.port(), "trustuser", "appdb")).as("the next rule").isEqualTo("R10");
            try (Connection c = proxy.connect()) {
                selectOne(c);
            }
        }
    }

    @Test
    void anMd5RuleOverridesAScramUsersOwnMethod() throws Exception {
        try (TestProxy proxy = proxy("", """
                access:
                  - {user: app, method: md5}
                """)) {
            assertThat(answer("127.0.0.1", proxy.port(), "app", "appdb")).isEqualTo("R5");
            try (Connection c = proxy.connect()) {
                selectOne(c);
            }
            assertThatThrownBy(() -> proxy.connect("app", "wrong"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
        }
    }

    @Test
    void withoutAccessEachUsersOwnAuthAppliesFromAnyAddress() throws Exception {
        try (TestProxy proxy = proxy("", "")) {
            assertThat(answer("127.0.0.2", proxy.port(), "app", "appdb")).isEqualTo("R10");
            assertThat(answer("127.0.0.2", proxy.port(), "trustuser", "appdb")).isEqualTo("R3");
            try (Connection c = proxy.connect()) {
                selectOne(c);
            }
        }
    }

    @Test
    void aReloadAppliesNewRulesAndThrottleToTheNextLoginWithoutAskingForARestart() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> yaml = new java.util.concurrent.atomic.AtomicReference<>(
                yaml("", ""));
        try (TestProxy proxy = TestProxy.fromYaml(yaml::get, TestPostgres.shared().port());
             LogCapture log = new LogCapture()) {
            assertThat(answer("127.0.0.2", proxy.port(), "app", "appdb")).isEqualTo("R10");
            yaml.set(yaml("login_throttle: {failures: 3}", """
                    access:
                      - {address: 127.0.0.2, method: reject}
                      - {method: scram-sha-256}
                    """));
            assertThat(proxy.application().reload()).isEmpty();
            assertThat(answer("127.0.0.2", proxy.port(), "app", "appdb")).isEqualTo(REFUSED_FROM_2);
            assertThat(proxy.application().context().config().listen().loginThrottle().failures()).isEqualTo(3);
            assertThat(log.lines("need a restart")).isEmpty();
        }
    }

    @Test
    void aTlsRequiredRuleRefusesPlainClientsAndAdmitsEncryptedOnes() throws Exception {
        try (TestProxy proxy = proxy(tls(""), """
                access:
                  - {tls: required, method: scram-sha-256}
                """)) {
            Properties plain = new Properties();
            plain.setProperty("sslmode", "disable");
            assertThatThrownBy(() -> proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, plain))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains("no access for host \"127.0.0.1\", user \"app\", "
                                + "database \"appdb\", no encryption");
                    });
            Properties encrypted = new Properties();
            encrypted.setProperty("sslmode", "verify-full");
            encrypted.setProperty("sslrootcert", caFile.toString());
            try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, encrypted)) {
                selectOne(c);
            }
        }
    }

    @Test
    void aCertRuleLogsInTheUserItsVerifiedCertificateNamesWithoutAPassword() throws Exception {
        try (TestProxy proxy = proxy(tls("ca_file: " + caFile + "\nclient_cert: verify"), """
                access:
                  - {user: trustuser, method: cert}
                  - {method: scram-sha-256}
                """)) {
            SSLContext asTrustuser = TlsSockets.context(certificates.ca().certificate(),
                    certificates.client(501, "trustuser"));
            try (SSLSocket socket = TlsSockets.afterSslRequest(proxy.port(), asTrustuser)) {
                assertThat(answer(socket, "trustuser", "appdb")).as("AuthenticationOk at once").isEqualTo("R0");
            }
            SSLContext asSomeoneElse = TlsSockets.context(certificates.ca().certificate(),
                    certificates.client(502, "app"));
            try (SSLSocket socket = TlsSockets.afterSslRequest(proxy.port(), asSomeoneElse)) {
                assertThat(answer(socket, "trustuser", "appdb"))
                        .isEqualTo("E 28000 certificate authentication failed for user \"trustuser\"");
            }
            try (SSLSocket socket = TlsSockets.afterSslRequest(proxy.port(), asSomeoneElse)) {
                assertThat(answer(socket, "app", "appdb")).as("the next rule").isEqualTo("R10");
            }
        }
    }
}
