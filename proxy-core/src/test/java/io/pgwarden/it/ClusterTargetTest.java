package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.backend.BackendConnector;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A database listed with several hosts: its backends go to the first host that fits target_session_attrs, as
 * libpq's would. The shared PostgreSQL is the writable server; a second one runs with
 * default_transaction_read_only on, which PostgreSQL reports as it reports a read-only primary.
 */
class ClusterTargetTest {

    private static RestartablePostgres readOnly;
    private static int deadPort;

    @BeforeAll
    static void servers() throws Exception {
        readOnly = RestartablePostgres.start();
        try (Connection c = DriverManager.getConnection(readOnly.url("postgres"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET default_transaction_read_only = on");
            s.execute("SELECT pg_reload_conf()");
        }
        try (ServerSocket probe = new ServerSocket(0)) {
            deadPort = probe.getLocalPort();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        readOnly.close();
    }

    private static TestProxy proxy(String attrs, String hosts) {
        return proxy(attrs, hosts, "");
    }

    /** @param server more of defaults.server, e.g. {@code , health_check_interval: 100ms} */
    private static TestProxy proxy(String attrs, String hosts, String server) {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0}
                defaults:
                  query_wait_timeout: 3s
                  server: {connect_timeout: 2s%s}
                databases:
                  appdb:
                    hosts: [%s]
                %s
                users:
                  app:
                    password: ${APP_PASSWORD}
                """.formatted(server, hosts, attrs.isEmpty() ? "" : "    target_session_attrs: " + attrs);
        return TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
    }

    private static String hosts(int... ports) {
        StringBuilder list = new StringBuilder();
        for (int port : ports) {
            list.append(list.isEmpty() ? "" : ", ").append("'127.0.0.1:").append(port).append("'");
        }
        return list.toString();
    }

    private static int serverPort(TestProxy proxy) throws SQLException {
        try (Connection c = proxy.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void readWriteSkipsAHostThatIsDownAndOneThatIsReadOnly() throws Exception {
        int writable = TestPostgres.shared().port();
        try (TestProxy proxy = proxy("", hosts(deadPort, readOnly.port(), writable))) {
            assertThat(serverPort(proxy)).isEqualTo(writable);
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE written (x int)");
                s.execute("INSERT INTO written VALUES (1)");
            }
        }
    }

    @Test
    void readOnlyGoesToTheReadOnlyServerAndAnyToTheFirstThatAnswers() throws Exception {
        int writable = TestPostgres.shared().port();
        try (TestProxy proxy = proxy("read-only", hosts(deadPort, writable, readOnly.port()))) {
            assertThat(serverPort(proxy)).isEqualTo(readOnly.port());
        }
        try (TestProxy proxy = proxy("any", hosts(deadPort, readOnly.port(), writable))) {
            assertThat(serverPort(proxy)).isEqualTo(readOnly.port());
        }
        try (TestProxy proxy = proxy("primary", hosts(readOnly.port(), writable))) {
            // A read-only primary is still a primary, not a hot standby.
            assertThat(serverPort(proxy)).isEqualTo(readOnly.port());
        }
    }

    @Test
    void hostProbesLogAHostsStateWhenItChangesNotAtEveryProbe() throws Exception {
        int writable = TestPostgres.shared().port();
        try (LogCapture log = new LogCapture().debug(BackendConnector.class);
             TestProxy proxy = proxy("", hosts(writable, deadPort, readOnly.port()),
                     ", health_check_interval: 100ms")) {
            assertThat(serverPort(proxy)).isEqualTo(writable);
            String readOnlyHost = "127.0.0.1:" + readOnly.port();
            String deadHost = "127.0.0.1:" + deadPort;
            // Five probes of each other host, each logged at DEBUG only.
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
                    log.debugLines("event=server_open ").stream().filter(l -> l.contains(readOnlyHost)).count() >= 5
                            && log.debugLines("event=server_open_failed").stream()
                            .filter(l -> l.contains(deadHost)).count() >= 5);
            assertThat(log.lines("event=server_open")).noneMatch(l -> l.contains(readOnlyHost) || l.contains(deadHost));
            assertThat(log.lines("event=server_close")).noneMatch(l -> l.contains("role probe"));
            assertThat(log.lines("event=host_state")).filteredOn(l -> l.contains("host=" + readOnlyHost))
                    .containsExactly("event=host_state database=appdb host=" + readOnlyHost
                            + " role=\"read-only primary\" was=\"unknown\"");
            assertThat(log.lines("event=host_error")).filteredOn(l -> l.contains("host=" + deadHost)).hasSize(1)
                    .allMatch(l -> l.contains("reason="));
        }
    }

    @Test
    void whenNoHostFitsTheWaitingClientIsToldWhatEachOneAnswered() {
        try (TestProxy proxy = proxy("read-write", hosts(deadPort, readOnly.port()))) {
            assertThatThrownBy(proxy::connect).isInstanceOf(SQLException.class)
                    .hasMessageContaining("no server of database appdb matches target_session_attrs=read-write")
                    .hasMessageContaining("127.0.0.1:" + deadPort + " (could not connect")
                    .hasMessageContaining("127.0.0.1:" + readOnly.port() + " (is a read-only primary "
                            + "(default_transaction_read_only=on), not read-write)");
        }
    }
}
