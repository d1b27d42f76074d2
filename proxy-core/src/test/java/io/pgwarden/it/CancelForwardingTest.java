package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.session.CancelRegistry;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.awaitility.Awaitility;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * listen.peers: a CancelRequest that reaches the other pgwarden process (as it does when two share a port with
 * listen.reuse_port) is forwarded to the process whose key it is, and cancels there; a forwarded one goes no
 * further, and the peer port takes nothing but cancel requests.
 */
class CancelForwardingTest {

    private record Pair(TestProxy a, TestProxy b, int peerPortA, int peerPortB) implements AutoCloseable {
        @Override
        public void close() {
            b.close();
            a.close();
        }
    }

    private static Pair start(String poolMode) {
        int peerA = FreePorts.below32768();
        int peerB = FreePorts.below32768();
        String peers = "peers:\n  1: 127.0.0.1:" + peerA + "\n  2: 127.0.0.1:" + peerB;
        TestProxy a = TestProxy.start("pool_mode: " + poolMode, "peer_id: 1\n" + peers);
        try {
            return new Pair(a, TestProxy.start("pool_mode: " + poolMode, "peer_id: 2\n" + peers), peerA, peerB);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void aCancelThatReachesTheOtherProcessIsForwardedAndCancels(String poolMode) throws Exception {
        try (Pair pair = start(poolMode); RawClient client = new RawClient(pair.a().port())) {
            client.query("SELECT pg_sleep(30)");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);
            try (Socket cancel = new Socket("127.0.0.1", pair.b().port())) {
                cancel.getOutputStream().write(client.cancelRequest());
                cancel.setSoTimeout(10_000);
                assertThat(cancel.getInputStream().read()).as("B closes once A has had PostgreSQL act").isEqualTo(-1);
            }
            assertThat(new String(client.expectAny('E'), StandardCharsets.UTF_8)).contains("57014");
            client.expect('Z');
        }
    }

    @Test
    void aForwardedCancelIsNeverForwardedAgain() throws Exception {
        try (Pair pair = start("session"); RawClient client = new RawClient(pair.a().port())) {
            client.query("SELECT pg_sleep(30)");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sleepingBackends() == 1);
            byte[] forwarded = client.cancelRequest();
            ByteBuffer.wrap(forwarded).putInt(12, ByteBuffer.wrap(forwarded).getInt(12) | CancelRegistry.FORWARDED);
            // As if a misconfigured peer had sent it to B: B does not hold the key and must not pass it on to A.
            try (Socket cancel = new Socket("127.0.0.1", pair.peerPortB())) {
                cancel.getOutputStream().write(forwarded);
                cancel.setSoTimeout(10_000);
                assertThat(cancel.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(sleepingBackends()).as("the query still runs after B dropped the cancel").isEqualTo(1);
            // Sent to A's own peer port, the forwarded key is A's and cancels.
            try (Socket cancel = new Socket("127.0.0.1", pair.peerPortA())) {
                cancel.getOutputStream().write(forwarded);
                cancel.setSoTimeout(10_000);
                assertThat(cancel.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(new String(client.expectAny('E'), StandardCharsets.UTF_8)).contains("57014");
        }
    }

    @Test
    void thePeerPortTakesCancelRequestsOnly() throws Exception {
        try (Pair pair = start("transaction")) {
            Properties props = new Properties();
            props.setProperty("user", "app");
            props.setProperty("password", TestPostgres.APP_PASSWORD);
            props.setProperty("sslmode", "disable");
            assertThatThrownBy(() -> java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                    + pair.peerPortA() + "/appdb", props)).isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("08P01");
                        assertThat(e.getMessage()).contains("this port takes cancel requests only");
                    });
        }
    }

    private static int sleepingBackends() throws SQLException {
        try (Connection c = TestPostgres.shared().superuser(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

}
