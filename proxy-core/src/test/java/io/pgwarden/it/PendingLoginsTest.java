package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Connections that have not logged in are capped on their own (listen.max_pending_logins, and per source address),
 * so silent sockets cannot lock real users out. Silent sockets come from 127.0.0.2 (all of 127/8 is loopback on
 * Linux), real clients from 127.0.0.1.
 */
class PendingLoginsTest {

    private static final InetSocketAddress ATTACKER = new InetSocketAddress("127.0.0.2", 0);

    @Test
    void aRealClientLogsInWhileTwoThousandSilentSocketsAreHeld() throws Exception {
        // 2,000 sockets here and up to 2,000 accepted by the proxy in the same JVM: well within ulimit -n (20,000).
        int silent = 2000;
        try (TestProxy proxy = TestProxy.start("", """
                max_client_connections: 1000
                max_pending_logins: 100
                max_pending_logins_per_address: 20""");
             Selector selector = Selector.open()) {
            List<SocketChannel> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < silent; i++) {
                    sockets.add(openSilent(proxy.port(), selector));
                }
                // All but the 20 one address may hold are answered (53300) and closed at once.
                int[] answered = {0};
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    answered[0] += drainAnswered(selector);
                    return answered[0] >= silent - 20;
                });
                try (Connection c = proxy.connect()) {
                    assertThat(selectOne(c)).isEqualTo(1);
                }
                assertThat(answered[0] + drainAnswered(selector)).isEqualTo(silent - 20);
            } finally {
                for (SocketChannel s : sockets) {
                    s.close();
                }
            }
            // The held ones left the count when they closed: the attacker's address may log in again.
            Properties fromAttacker = new Properties();
            fromAttacker.setProperty("localSocketAddress", "127.0.0.2");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, fromAttacker)) {
                    assertThat(selectOne(c)).isEqualTo(1);
                }
            });
        }
    }

    @Test
    void loggedInClientsLeaveTheCountAndTheNextStrangerIsRefusedWith53300() throws Exception {
        try (TestProxy proxy = TestProxy.start("", "max_pending_logins: 2");
             Selector selector = Selector.open()) {
            List<Connection> loggedIn = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    loggedIn.add(proxy.connect());
                }
                SocketChannel first = openSilent(proxy.port(), selector);
                SocketChannel second = openSilent(proxy.port(), selector);
                try {
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                            assertThatThrownBy(() -> proxy.connect().close())
                                    .isInstanceOf(SQLException.class)
                                    .hasMessageContaining("listen.max_pending_logins")
                                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300")));
                    first.close();
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        try (Connection c = proxy.connect()) {
                            assertThat(selectOne(c)).isEqualTo(1);
                        }
                    });
                } finally {
                    first.close();
                    second.close();
                }
                for (Connection c : loggedIn) {
                    assertThat(selectOne(c)).isEqualTo(1);
                }
            } finally {
                for (Connection c : loggedIn) {
                    c.close();
                }
            }
        }
    }

    private static SocketChannel openSilent(int port, Selector selector) throws IOException {
        SocketChannel s = SocketChannel.open();
        s.bind(ATTACKER);
        s.connect(new InetSocketAddress("127.0.0.1", port));
        s.configureBlocking(false);
        s.register(selector, SelectionKey.OP_READ);
        return s;
    }

    /** Sockets the proxy answered or closed since the last call; each counts once. */
    private static int drainAnswered(Selector selector) throws IOException {
        int answered = 0;
        selector.selectNow();
        ByteBuffer buffer = ByteBuffer.allocate(256);
        for (SelectionKey key : selector.selectedKeys()) {
            buffer.clear();
            try {
                ((SocketChannel) key.channel()).read(buffer);
            } catch (IOException reset) {
                // A reset is an answer too.
            }
            key.cancel();
            answered++;
        }
        selector.selectedKeys().clear();
        return answered;
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
