package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultRelayTest {

    private EchoServer echo;
    private FaultRelay relay;

    @BeforeEach
    void setUp() throws IOException {
        echo = new EchoServer();
        relay = FaultRelay.start("127.0.0.1", echo.port());
    }

    @AfterEach
    void tearDown() {
        relay.close();
        echo.close();
    }

    @Test
    void bytesPassBothWays() throws IOException {
        try (Socket client = connect()) {
            assertEchoes(client, "hello");
            assertEchoes(client, "again");
            assertThat(relay.openConnections()).isEqualTo(1);
            assertThat(echo.bytesReceived.get()).isEqualTo(10);
        }
        await().until(() -> relay.openConnections() == 0 && echo.connections.isEmpty());
    }

    @Test
    void closeAllSendsFinToBothSides() throws IOException {
        try (Socket client = connect()) {
            assertEchoes(client, "hello");
            relay.closeAll();
            assertThat(client.getInputStream().read()).isEqualTo(-1);
            assertThat(relay.openConnections()).isZero();
            await().until(echo.connections::isEmpty);
        }
    }

    @Test
    void resetAllResetsTheClient() throws IOException {
        try (Socket client = connect()) {
            assertEchoes(client, "hello");
            relay.resetAll();
            assertThatThrownBy(() -> client.getInputStream().read())
                    .isInstanceOf(SocketException.class)
                    .hasMessageContaining("Connection reset");
            assertThat(relay.openConnections()).isZero();
            await().until(echo.connections::isEmpty);
        }
    }

    @Test
    void stopForwardingBlackholesCurrentAndNewConnections() throws IOException {
        try (Socket current = connect()) {
            assertEchoes(current, "hello");
            relay.stopForwarding();
            assertBlackholed(current);

            try (Socket fresh = connect()) {
                await().until(() -> relay.openConnections() == 2);
                assertBlackholed(fresh);
            }
            assertThat(echo.bytesReceived.get()).isEqualTo(5);

            relay.resumeForwarding();
            try (Socket afterResume = connect()) {
                assertEchoes(afterResume, "back");
            }
        }
    }

    @Test
    void refuseConnectionsClosesNewClientsUntilAcceptConnections() throws IOException {
        relay.refuseConnections();
        try (Socket refused = connect()) {
            assertThat(refused.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(echo.connections).isEmpty();

        relay.acceptConnections();
        try (Socket accepted = connect()) {
            assertEchoes(accepted, "hello");
        }
    }

    @Test
    void closeFreesEverything() throws IOException {
        int port = relay.port();
        try (Socket first = connect(); Socket second = connect()) {
            assertEchoes(first, "one");
            assertEchoes(second, "two");
            relay.close();
            relay.close(); // idempotent

            assertThat(first.getInputStream().read()).isEqualTo(-1);
            assertThat(second.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(relay.openConnections()).isZero();
        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
        await().until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("fault-relay-" + port + "-")));
        await().until(echo.connections::isEmpty);
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), relay.port());
        socket.setSoTimeout(5_000); // a broken relay fails the test instead of hanging it
        return socket;
    }

    private static void assertEchoes(Socket client, String text) throws IOException {
        byte[] sent = text.getBytes(StandardCharsets.US_ASCII);
        client.getOutputStream().write(sent);
        assertThat(client.getInputStream().readNBytes(sent.length)).isEqualTo(sent);
    }

    /** Written bytes never come back, yet the connection stays open. */
    private static void assertBlackholed(Socket client) throws IOException {
        client.getOutputStream().write("lost".getBytes(StandardCharsets.US_ASCII));
        client.setSoTimeout(300);
        assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
        assertThat(client.isClosed()).isFalse();
        client.getOutputStream().write('x'); // still writable: nothing was closed or reset
    }

    /** Echoes every byte back; one daemon thread per connection. */
    private static final class EchoServer implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final Set<Socket> connections = ConcurrentHashMap.newKeySet();
        final AtomicLong bytesReceived = new AtomicLong();

        EchoServer() throws IOException {
            daemon(this::acceptLoop).start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void acceptLoop() {
            try {
                while (true) {
                    Socket socket = server.accept();
                    connections.add(socket);
                    daemon(() -> echo(socket)).start();
                }
            } catch (IOException e) {
                // closed
            }
        }

        private void echo(Socket socket) {
            try (socket) {
                InputStream in = socket.getInputStream();
                byte[] buffer = new byte[1024];
                int n;
                while ((n = in.read(buffer)) != -1) {
                    bytesReceived.addAndGet(n);
                    socket.getOutputStream().write(buffer, 0, n);
                }
            } catch (IOException e) {
                // reset or closed: the connection is over either way
            } finally {
                connections.remove(socket);
            }
        }

        private static Thread daemon(Runnable body) {
            Thread thread = new Thread(body, "echo-server");
            thread.setDaemon(true);
            return thread;
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // best effort
            }
            connections.forEach(socket -> {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // best effort
                }
            });
        }
    }
}
