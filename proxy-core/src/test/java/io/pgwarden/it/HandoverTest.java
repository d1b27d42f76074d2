package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * listen.handover_socket: a new process takes the running one's listening socket, the old one drains, and the new
 * one offers the socket in turn; what is not a live handover (a stale file, a socket on another port) is handled.
 */
class HandoverTest {

    @TempDir
    Path dir;

    @BeforeEach
    void epoll() {
        assumeTrue(Epoll.isAvailable(), () -> "epoll cannot load here: " + Epoll.unavailabilityCause());
    }

    private TestProxy proxy(int port, Path socket) {
        return TestProxy.fromYaml(() -> """
                listen:
                  host: 127.0.0.1
                  port: %d
                  transport: epoll
                  handover_socket: %s
                defaults:
                  pool_mode: transaction
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                """.formatted(port, socket), TestPostgres.shared().port());
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void eachNewProcessTakesTheListeningSocketAndTheOneBeforeDrains() throws Exception {
        Path socket = dir.resolve("handover.sock");
        try (TestProxy a = proxy(0, socket)) {
            int port = a.port();
            assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            Connection onA = a.connect();
            assertThat(selectOne(onA)).isEqualTo(1);
            try (TestProxy b = proxy(port, socket)) {
                assertThat(b.port()).isEqualTo(port);
                // No SIGTERM: the confirmation starts A's drain, and A stops once its idle client is closed.
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> a.application().context().sessions()
                        .drain().isDraining());
                a.application().awaitStop();
                assertThatThrownBy(() -> selectOne(onA)).isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isIn("57P01", "08006");
                for (int i = 0; i < 5; i++) {
                    try (Connection c = b.connect()) {
                        assertThat(selectOne(c)).isEqualTo(1);
                        assertThat(b.application().context().sessions().drain().isDraining()).isFalse();
                    }
                }
                try (TestProxy c = proxy(port, socket)) {
                    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> b.application().context()
                            .sessions().drain().isDraining());
                    b.application().awaitStop();
                    try (Connection client = c.connect()) {
                        assertThat(selectOne(client)).isEqualTo(1);
                    }
                    assertThat(Files.exists(socket)).as("the socket file, now C's").isTrue();
                }
            }
        }
        assertThat(Files.exists(socket)).as("removed by the last process at its stop").isFalse();
    }

    @Test
    void aSocketFileNobodyListensOnIsReplaced() throws Exception {
        Path socket = dir.resolve("stale.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(Files.exists(socket)).as("left behind, as by a crashed process").isTrue();
        try (TestProxy a = proxy(0, socket); Connection c = a.connect()) {
            assertThat(selectOne(c)).isEqualTo(1);
            try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertThat(probe.isConnected()).as("A offers at the path now").isTrue();
            }
        }
    }

    @Test
    void aSocketListeningOnAnotherPortIsNotTakenAndTheRunningProcessGoesOn() throws Exception {
        Path socket = dir.resolve("handover.sock");
        try (TestProxy a = proxy(0, socket)) {
            int other = FreePorts.below32768();
            assertThatThrownBy(() -> proxy(other, socket).close()).hasStackTraceContaining(
                    "listen.handover_socket: the socket handed over listens on /127.0.0.1:" + a.port()
                            + ", but listen.host and listen.port say 127.0.0.1:" + other);
            assertThat(a.application().context().sessions().drain().isDraining()).isFalse();
            try (Connection c = a.connect()) {
                assertThat(selectOne(c)).isEqualTo(1);
            }
        }
    }

    @Test
    void aFileThatIsNotASocketStopsTheStart() throws Exception {
        Path notASocket = Files.writeString(dir.resolve("handover.sock"), "x");
        assertThatThrownBy(() -> proxy(0, notASocket).close())
                .hasStackTraceContaining("listen.handover_socket " + notASocket + " exists and is not a socket");
    }
}
