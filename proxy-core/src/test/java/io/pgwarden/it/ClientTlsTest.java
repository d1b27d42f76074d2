package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Issue 15, client side: pgwarden speaks TLS to clients (listen.tls) as PostgreSQL 17 does, with real drivers and
 * raw JDK TLS sockets, against certificates made for this run.
 */
class ClientTlsTest {

    @TempDir
    static Path dir;
    private static TestCertificates certificates;
    private static Path caFile;
    private static Path certFile;
    private static Path keyFile;
    private static TestProxy proxy;
    private static SSLContext trustingCa;

    @BeforeAll
    static void start() throws Exception {
        certificates = TestCertificates.newCa();
        caFile = dir.resolve("ca.pem");
        certFile = dir.resolve("server.pem");
        keyFile = dir.resolve("server.key");
        TestCertificates.writeFile(caFile, TestCertificates.pem(certificates.ca().certificate()));
        TestCertificates.Issued server = certificates.server(10);
        TestCertificates.writeWithChain(server, certificates.ca().certificate(), certFile);
        // PKCS#1, as older openssl writes it: the form Netty cannot read by itself.
        TestCertificates.writeFile(keyFile, TestCertificates.pkcs1(server));
        proxy = TestProxy.start("pool_mode: transaction", tls("require", ""));
        trustingCa = TlsSockets.context(certificates.ca().certificate(), null);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    static String tls(String mode, String extra) {
        return """
                tls:
                  mode: %s
                  cert_file: %s
                  key_file: %s
                %s""".formatted(mode, certFile, keyFile, extra.indent(2).stripTrailing());
    }

    private static Properties verifyFull() {
        Properties props = new Properties();
        props.setProperty("sslmode", "verify-full");
        props.setProperty("sslrootcert", caFile.toString());
        props.setProperty("channelBinding", "require");
        return props;
    }

    @Test
    void pgjdbcVerifiesTheCertificateBindsTheChannelAndMovesLargeResultsAndCopy() throws Exception {
        try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, verifyFull());
             Statement s = c.createStatement()) {
            long rows = 0;
            long sum = 0;
            try (ResultSet rs = s.executeQuery("SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g")) {
                while (rs.next()) {
                    rows++;
                    sum += rs.getLong(1);
                }
            }
            assertThat(rows).isEqualTo(100_000);
            assertThat(sum).isEqualTo(100_000L * 100_001 / 2);

            CopyManager copy = c.unwrap(BaseConnection.class).getCopyAPI();
            s.execute("CREATE TEMP TABLE tls_copy(n int, t text)");
            StringBuilder in = new StringBuilder();
            for (int i = 0; i < 50_000; i++) {
                in.append(i).append('\t').append("row ").append(i).append('\n');
            }
            // A session pool: the temp table must stay with the connection between the COPYs.
            c.setAutoCommit(false);
            s.execute("CREATE TEMP TABLE tls_copy2(n int, t text) ON COMMIT DROP");
            assertThat(copy.copyIn("COPY tls_copy2 FROM STDIN", new StringReader(in.toString()))).isEqualTo(50_000);
            StringWriter out = new StringWriter();
            assertThat(copy.copyOut("COPY tls_copy2 TO STDOUT", out)).isEqualTo(50_000);
            assertThat(out.toString()).isEqualTo(in.toString());
            c.commit();
        }
    }

    @Test
    void psqlWithVerifyFullAndChannelBindingRunsLargeResultsAndCopy() throws Exception {
        Path psql = CommandLineClientsTest.clientBinary("psql");
        Path data = dir.resolve("copy-in.tsv");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            text.append(i).append('\t').append("line ").append(i).append('\n');
        }
        Files.writeString(data, text);
        Path back = dir.resolve("copy-out.tsv");
        Path script = dir.resolve("copy.sql");
        Files.writeString(script, "BEGIN;\nCREATE TEMP TABLE p(n int, t text) ON COMMIT DROP;\n\\copy p FROM '" + data
                + "'\n\\copy p TO '" + back + "'\nCOMMIT;\n");
        for (String sslmode : List.of("require", "verify-full")) {
            // channel_binding=require: libpq refuses to log in unless the proxy completes SCRAM-SHA-256-PLUS.
            String conninfo = "host=127.0.0.1 port=" + proxy.port() + " user=app dbname=appdb sslmode=" + sslmode
                    + " sslrootcert=" + caFile + " channel_binding=require";
            List<String> command = List.of(psql.toString(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t",
                    "-d", conninfo, "-c", "SELECT count(*), sum(g) FROM generate_series(1, 100000) g",
                    "-f", script.toString());
            Result result = run(command);
            assertThat(result.exitCode()).as(sslmode + ": " + result.output()).isZero();
            assertThat(result.output()).contains("100000|5000050000");
        }
        assertThat(Files.readString(back)).isEqualTo(text.toString());
    }

    @Test
    void requireRefusesAPlainClientWith28000() {
        Properties plain = new Properties();
        plain.setProperty("sslmode", "disable");
        assertThatThrownBy(() -> proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, plain))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getMessage()).contains("TLS is required");
                });
    }

    @Test
    void disableStillAnswersN() throws Exception {
        try (TestProxy plainProxy = TestProxy.start("");
             Socket socket = TlsSockets.plain(plainProxy.port())) {
            assertThat(TlsSockets.sslRequest(socket)).isEqualTo('N');
        }
    }

    @Test
    void aDirectHandshakeWithAlpnPostgresqlLogsIn() throws Exception {
        try (SSLSocket socket = TlsSockets.direct(proxy.port(), trustingCa, "postgresql");
             RawClient client = TlsSockets.login(socket)) {
            assertThat(socket.getApplicationProtocol()).isEqualTo("postgresql");
            client.query("SELECT 41 + 1");
            assertThat(new String(client.expect('D'), StandardCharsets.UTF_8)).contains("42");
        }
    }

    @Test
    void pgjdbcsDirectNegotiationLogsInWithChannelBinding() throws Exception {
        Properties direct = verifyFull();
        direct.setProperty("sslNegotiation", "direct");
        try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, direct);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(7);
        }
    }

    @Test
    void aDirectHandshakeWithoutAlpnIsClosedAsPostgresqlDoes() throws Exception {
        try (SSLSocket socket = TlsSockets.direct(proxy.port(), trustingCa)) {
            assertThat(closedAfterStartup(socket)).isTrue();
        }
        // Offering only other protocols: the JDK provider fails the handshake itself (no_application_protocol);
        // BoringSSL, the default, cannot send that alert and closes right after the handshake instead.
        assertThat(refusedDirect(proxy, "http/1.1")).isTrue();
    }

    @Test
    void afterSslRequestTheClientLogsInAndAnotherSslRequestIsRefused() throws Exception {
        try (SSLSocket socket = TlsSockets.afterSslRequest(proxy.port(), trustingCa)) {
            socket.getOutputStream().write(TlsSockets.SSL_REQUEST);
            assertThat(errorOf(socket)).contains("C0A000").contains("unsupported frontend protocol 1234.5679");
        }
    }

    @Test
    void plainBytesBehindTheSslRequestAreRefused() throws Exception {
        try (Socket socket = TlsSockets.plain(proxy.port())) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.write(TlsSockets.SSL_REQUEST);
            StartupPacket.send(both, 3 << 16, "user", "trustuser", "database", "appdb");
            socket.getOutputStream().write(both.toByteArray());
            assertThat(errorOf(socket)).contains("C08P01").contains("received unencrypted data after SSL request");
        }
    }

    @Test
    void scramPlusIsOfferedOverTlsAndABindingToAnotherCertificateIsRefused() throws Exception {
        try (SSLSocket socket = TlsSockets.afterSslRequest(proxy.port(), trustingCa, "postgresql")) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            StartupPacket.send(out, 3 << 16, "user", "app", "database", "appdb");
            byte[] sasl = readMessage(in, 'R');
            assertThat(new String(sasl, 4, sasl.length - 4, StandardCharsets.US_ASCII))
                    .isEqualTo("SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0");
            String gs2 = "p=tls-server-end-point,,";
            byte[] first = (gs2 + "n=,r=clientnonce").getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream initial = new ByteArrayOutputStream();
            initial.write("SCRAM-SHA-256-PLUS\0".getBytes(StandardCharsets.US_ASCII));
            new DataOutputStream(initial).writeInt(first.length);
            initial.write(first);
            writeMessage(out, 'p', initial.toByteArray());
            byte[] cont = readMessage(in, 'R');
            String serverFirst = new String(cont, 4, cont.length - 4, StandardCharsets.US_ASCII);
            String nonce = serverFirst.substring(2, serverFirst.indexOf(','));
            // The hash of some other certificate, as a client behind an intercepting proxy would compute it.
            byte[] echo = (gs2 + "\0".repeat(32)).getBytes(StandardCharsets.ISO_8859_1);
            String last = "c=" + Base64.getEncoder().encodeToString(echo) + ",r=" + nonce + ",p="
                    + Base64.getEncoder().encodeToString(new byte[32]);
            writeMessage(out, 'p', last.getBytes(StandardCharsets.US_ASCII));
            assertThat(errorOf(socket)).contains("C28P01");
        }
    }

    @Test
    void clientCertificatesAreRequiredWhenVerified() throws Exception {
        TestCertificates.Issued client = certificates.client(500, "trustuser");
        try (TestProxy verifying = TestProxy.start("", tls("require", "ca_file: " + caFile + "\nclient_cert: verify"))) {
            SSLContext withCert = TlsSockets.context(certificates.ca().certificate(), client);
            try (SSLSocket socket = TlsSockets.afterSslRequest(verifying.port(), withCert);
                 RawClient raw = TlsSockets.login(socket)) {
                raw.query("SELECT 1");
                raw.expect('Z');
            }
            // TLS 1.3 reports a missing certificate only at the client's first read after the handshake.
            assertThatThrownBy(() -> {
                try (SSLSocket socket = TlsSockets.afterSslRequest(verifying.port(), trustingCa)) {
                    TlsSockets.login(socket);
                }
            }).isInstanceOf(IOException.class);
        }
    }

    @Test
    void renegotiationIsRefused() throws Exception {
        // TLS 1.3 has no renegotiation; a TLS 1.2 client asks for one with a new ClientHello.
        Socket plain = TlsSockets.plain(proxy.port());
        assertThat(TlsSockets.sslRequest(plain)).isEqualTo('S');
        try (SSLSocket socket = (SSLSocket) trustingCa.getSocketFactory().createSocket(plain, "127.0.0.1",
                proxy.port(), true)) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            RawClient client = TlsSockets.login(socket);
            socket.startHandshake();
            assertThatThrownBy(() -> {
                client.query("SELECT 1");
                client.expect('Z');
            }).isInstanceOf(IOException.class);
        }
    }

    @Test
    void theJdkProviderServesTheSameWhenAskedFor() throws Exception {
        try (TestProxy jdk = TestProxy.start("", tls("require", "provider: jdk"));
             Connection c = jdk.connect("appdb", "app", TestPostgres.APP_PASSWORD, verifyFull());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM "
                     + "generate_series(1, 100000)")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(100_000);
            try (SSLSocket socket = TlsSockets.direct(jdk.port(), trustingCa, "postgresql");
                 RawClient client = TlsSockets.login(socket)) {
                client.query("SELECT 1");
                client.expect('Z');
            }
            try (SSLSocket socket = TlsSockets.direct(jdk.port(), trustingCa)) {
                assertThat(closedAfterStartup(socket)).isTrue();
            }
            // The JDK's engine refuses the handshake itself with no_application_protocol.
            assertThatThrownBy(() -> TlsSockets.direct(jdk.port(), trustingCa, "http/1.1").close())
                    .isInstanceOf(SSLException.class);
        }
    }

    /** A direct handshake offering only {@code alpn} fails, or its connection is closed right after it. */
    private boolean refusedDirect(TestProxy target, String alpn) throws IOException {
        SSLSocket socket;
        try {
            socket = TlsSockets.direct(target.port(), trustingCa, alpn);
        } catch (SSLException refusedInHandshake) {
            return true;
        }
        try (socket) {
            return closedAfterStartup(socket);
        }
    }

    /** Sends a StartupMessage, which a connection the proxy closes right after its handshake may not take. */
    private static boolean closedAfterStartup(SSLSocket socket) throws IOException {
        try {
            StartupPacket.send(socket.getOutputStream(), 3 << 16, "user", "trustuser", "database", "appdb");
        } catch (IOException closedAlready) {
            return true;
        }
        return endOf(socket);
    }

    /** True when the proxy closes the connection (a read ends or fails) before the socket's timeout. */
    static boolean endOf(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** The fields of the ErrorResponse that comes next, as text. */
    static String errorOf(Socket socket) throws IOException {
        byte[] body = readMessage(new DataInputStream(socket.getInputStream()), 'E');
        return new String(body, StandardCharsets.UTF_8);
    }

    private static byte[] readMessage(DataInputStream in, char expected) throws IOException {
        char type = (char) in.readByte();
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        if (type != expected) {
            throw new IOException("expected '" + expected + "' but got '" + type + "': "
                    + new String(body, StandardCharsets.UTF_8));
        }
        return body;
    }

    private static void writeMessage(DataOutputStream out, char type, byte[] body) throws IOException {
        out.writeByte(type);
        out.writeInt(body.length + 4);
        out.write(body);
        out.flush();
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
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
}
