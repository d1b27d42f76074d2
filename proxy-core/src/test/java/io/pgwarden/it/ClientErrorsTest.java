package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/** Acceptance 4: every refusal is a proper PostgreSQL error, and the proxy keeps serving everyone else. */
class ClientErrorsTest {

    @Test
    void wrongPasswordAndUnknownUserBothGet28P01WithoutRevealingWhich() {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            assertThatThrownBy(() -> proxy.connect("app", "wrong"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("password authentication failed for user \"app\"");
                    });
            assertThatThrownBy(() -> proxy.connect("nobody", "whatever"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("password authentication failed for user \"nobody\"");
                    });
            assertStillServes(proxy);
        }
    }

    @Test
    void md5AndCleartextUsersLogInWhenTheirConfigSaysSo() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            try (Connection c = proxy.connect("md5user", TestPostgres.MD5_PASSWORD); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("md5user");
            }
            try (Connection c = proxy.connect("trustuser", "trust-secret"); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("trustuser");
            }
            assertThatThrownBy(() -> proxy.connect("md5user", "nope"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
        }
    }

    @Test
    void unknownDatabaseGets3D000() {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            assertThatThrownBy(() -> proxy.connect("nosuchdb", "app", TestPostgres.APP_PASSWORD, new Properties()))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("3D000");
                        assertThat(e.getMessage()).contains("database \"nosuchdb\" does not exist");
                    });
            assertStillServes(proxy);
        }
    }

    @Test
    void clientsBeyondMaxClientConnectionsGet53300() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction", "max_client_connections: 2");
             Connection first = proxy.connect(); Connection second = proxy.connect()) {
            assertThatThrownBy(proxy::connect)
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("53300");
                        assertThat(e.getMessage()).contains("too many clients");
                    });
            assertThat(first.isValid(5)).isTrue();
            second.close();
            // The refused client's slot and the closed one are both given back.
            org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS).ignoreExceptions()
                    .until(() -> {
                        try (Connection c = proxy.connect()) {
                            return c.isValid(5);
                        }
                    });
        }
    }

    @Test
    void waitingLongerThanQueryWaitTimeoutGivesAClearErrorAndKeepsTheConnection() throws Exception {
        Properties leaky = new Properties();
        leaky.setProperty("ApplicationName", "leaky-worker");
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 500ms");
             Connection holder = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, leaky);
             Connection waiter = proxy.connect()) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("SELECT 'held' AS leak"); // holds the only backend: the transaction stays open
            }
            try (Statement s = waiter.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("SELECT 2"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage())
                                    .contains("no server connection available")
                                    .contains("query_wait_timeout 500 ms")
                                    .contains("pool appdb/app has 1 of 1 server connections in use")
                                    .as("the waiter counts itself").contains("1 client waiting");
                            assertThat(((PSQLException) e).getServerErrorMessage().getDetail())
                                    .as("names who holds the backends")
                                    .contains("server connections held by: client#")
                                    .contains("idle in transaction for ")
                                    .contains("application_name \"leaky-worker\"")
                                    .contains("begun by \"SELECT 'held' AS leak\"");
                        });
            }
            holder.commit();
            try (Statement s = waiter.createStatement(); ResultSet rs = s.executeQuery("SELECT 3")) {
                rs.next();
                assertThat(rs.getInt(1)).as("the waiter keeps its connection and is served once a backend frees")
                        .isEqualTo(3);
            }
        }
    }

    @Test
    void aGarbagePacketClosesOnlyThatClient() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction"); Connection bystander = proxy.connect()) {
            try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                // A length field of 2 billion is no startup packet any client would send.
                out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3, 4});
                out.flush();
                DataInputStream in = new DataInputStream(socket.getInputStream());
                assertThat(in.readByte()).isEqualTo((byte) 'E');
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                assertThat(new String(body, java.nio.charset.StandardCharsets.UTF_8)).contains("08P01");
                assertThat(in.read()).as("connection closed after the error").isEqualTo(-1);
            }
            assertThat(bystander.isValid(5)).isTrue();
            assertStillServes(proxy);
        }
    }

    @Test
    void manyConcurrentBadLoginsDoNotDisturbGoodOnes() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                Future<?>[] bad = new Future<?>[20];
                for (int i = 0; i < bad.length; i++) {
                    bad[i] = pool.submit(() -> {
                        assertThatThrownBy(() -> proxy.connect("app", "bad")).isInstanceOf(SQLException.class);
                        return null;
                    });
                }
                assertStillServes(proxy);
                for (Future<?> f : bad) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static void assertStillServes(TestProxy proxy) {
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 40 + 2")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(42);
        } catch (SQLException e) {
            throw new AssertionError("proxy stopped serving good clients", e);
        }
    }
}
