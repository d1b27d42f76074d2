package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.awaitility.Awaitility;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.Test;

/** What a client sees before it is logged in, byte for byte where drivers depend on it. */
class StartupProtocolTest {

    @Test
    void aNewerMinorVersionIsNegotiatedDownAndTheLoginProceeds() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction");
             Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(5_000);
            sendStartup(socket.getOutputStream(), (3 << 16) | 2, "user", "app", "database", "appdb",
                    "_pq_.some_option", "on");
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertThat((char) in.readByte()).isEqualTo('v');
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            DataInputStream fields = new DataInputStream(new java.io.ByteArrayInputStream(body));
            assertThat(fields.readInt()).as("newest supported version").isEqualTo(3 << 16);
            assertThat(fields.readInt()).as("unrecognised options").isEqualTo(1);
            assertThat(new String(body, 8, body.length - 9, StandardCharsets.UTF_8)).isEqualTo("_pq_.some_option");
            assertThat((char) in.readByte()).as("authentication request follows").isEqualTo('R');
            in.readInt();
            assertThat(in.readInt()).as("AuthenticationSASL").isEqualTo(10);
        }
    }

    @Test
    void protocolVersion2IsRefusedWithAClearError() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction");
             Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(5_000);
            sendStartup(socket.getOutputStream(), 2 << 16, "user", "app");
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertThat((char) in.readByte()).isEqualTo('E');
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            assertThat(new String(body, StandardCharsets.UTF_8)).contains("0A000").contains("unsupported frontend protocol 2.0");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void minSizeBackendsAreOpenBeforeAnyClientAsks() throws Exception {
        TestPostgres pg = TestPostgres.shared();
        Timestamp since = pg.clock();
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmin_size: 2\nmax_size: 4")) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> pg.backendsSince(since, "app") == 2
                    && pg.backendsSince(since, "md5user") == 2);
        }
    }

    @Test
    void terminateAsTheFirstBytesClosesTheConnectionWithoutAWordAndLogsOnlyAtDebug() throws Exception {
        Logger frontend = (Logger) LoggerFactory.getLogger("io.pgwarden");
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Level before = frontend.getLevel();
        frontend.setLevel(Level.DEBUG);
        frontend.setAdditive(false);
        logged.start();
        frontend.addAppender(logged);
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
                socket.setSoTimeout(5_000);
                // node-postgres' quick disconnect: Terminate where the StartupMessage would be.
                socket.getOutputStream().write(new byte[] {'X', 0, 0, 0, 4});
                socket.getOutputStream().flush();
                assertThat(socket.getInputStream().read()).as("EOF, with no error the client could not parse")
                        .isEqualTo(-1);
            }
            try (Socket silent = new Socket("127.0.0.1", proxy.port())) {
                silent.setSoTimeout(5_000);
                // A port probe: connected and gone without a byte.
            }
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.application().context().sessions().all().isEmpty());
            assertThat(logged.list).filteredOn(e -> e.getFormattedMessage().contains("Terminate before"))
                    .as("logged once, at debug").singleElement()
                    .satisfies(e -> assertThat(e.getLevel()).isEqualTo(Level.DEBUG));
            assertThat(logged.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.INFO)
                            && (e.getLoggerName().contains(".frontend.") || e.getLoggerName().contains(".session.")))
                    .as("neither connection is worth more than a debug line").isEmpty();
        } finally {
            frontend.detachAppender(logged);
            frontend.setLevel(before);
            frontend.setAdditive(true);
        }
    }

    private static void sendStartup(OutputStream raw, int version, String... keyValues) throws IOException {
        StartupPacket.send(raw, version, keyValues);
    }
}
