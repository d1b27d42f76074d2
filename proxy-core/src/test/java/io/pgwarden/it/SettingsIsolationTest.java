package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, items 3 to 5, through transaction mode with one backend, so that the next client provably lands on
 * the backend the first one changed: whatever a client changes follows it and reaches nobody else.
 */
class SettingsIsolationTest {

    private static final String ONE_BACKEND = "pool_mode: transaction\nmax_size: 1";

    @Test
    void aReadOnlyDefaultSetOutsideATransactionStaysWithItsClient() throws Exception {
        try (TestProxy proxy = TestProxy.start(ONE_BACKEND); Connection a = proxy.connect();
             Connection b = proxy.connect()) {
            execute(b, "CREATE TABLE IF NOT EXISTS settings_it (v int)");
            String backend = single(a, "SELECT pg_backend_pid()::text");
            execute(a, "SET default_transaction_read_only = on");

            assertThat(single(b, "SELECT pg_backend_pid()::text")).as("the same backend").isEqualTo(backend);
            assertThat(single(b, "SHOW default_transaction_read_only")).isEqualTo("off");
            execute(b, "INSERT INTO settings_it VALUES (1)");

            assertThat(single(a, "SHOW default_transaction_read_only")).isEqualTo("on");
            assertThatThrownBy(() -> execute(a, "INSERT INTO settings_it VALUES (2)"))
                    .hasMessageContaining("read-only transaction");
        }
    }

    @Test
    void standardConformingStringsACustomSettingAndSetConfigStayWithTheirClient() throws Exception {
        try (TestProxy proxy = TestProxy.start(ONE_BACKEND); Connection a = proxy.connect();
             Connection b = proxy.connect()) {
            execute(a, "SET standard_conforming_strings = off");
            execute(a, "SET myapp.x = 'it''s A'");
            assertThat(single(a, "SELECT set_config('myapp.y', 'from select', false)")).isEqualTo("from select");
            assertThat(single(a, "SELECT set_config('lock_timeout', '1234ms', false)")).isEqualTo("1234ms");
            assertThat(single(a, "SELECT set_config('work_mem', '7MB', true)")).as("local").isEqualTo("7MB");

            assertThat(single(b, "SHOW standard_conforming_strings")).isEqualTo("on");
            assertThat(single(b, "SELECT coalesce(current_setting('myapp.x', true), '')")).isEmpty();
            assertThat(single(b, "SELECT coalesce(current_setting('myapp.y', true), '')")).isEmpty();
            assertThat(single(b, "SHOW lock_timeout")).isEqualTo("0");

            assertThat(single(a, "SHOW standard_conforming_strings")).isEqualTo("off");
            assertThat(single(a, "SHOW myapp.x")).isEqualTo("it's A");
            assertThat(single(a, "SHOW myapp.y")).isEqualTo("from select");
            assertThat(single(a, "SHOW lock_timeout")).isEqualTo("1234ms");
            assertThat(single(a, "SHOW work_mem")).isEqualTo("4MB");
        }
    }

    @Test
    void aSettingChangedInARolledBackTransactionOrResetIsUndoneForItsClientOnly() throws Exception {
        try (TestProxy proxy = TestProxy.start(ONE_BACKEND); Connection a = proxy.connect();
             Connection b = proxy.connect()) {
            execute(a, "SET statement_timeout = '5s'");
            execute(a, "SET idle_in_transaction_session_timeout = '7s'");
            a.setAutoCommit(false);
            execute(a, "SET statement_timeout = '9s'");
            a.rollback();
            a.setAutoCommit(true);
            assertThat(single(b, "SHOW statement_timeout")).isEqualTo("0");
            execute(b, "SET statement_timeout = '3s'");
            assertThat(single(a, "SHOW statement_timeout")).isEqualTo("5s");
            execute(a, "RESET statement_timeout");
            assertThat(single(b, "SHOW statement_timeout")).isEqualTo("3s");
            assertThat(single(a, "SHOW statement_timeout")).isEqualTo("0");
            assertThat(single(a, "SHOW idle_in_transaction_session_timeout")).isEqualTo("7s");
            execute(a, "RESET ALL");
            assertThat(single(a, "SHOW idle_in_transaction_session_timeout")).isEqualTo("0");
            assertThat(single(b, "SHOW statement_timeout")).isEqualTo("3s");
        }
    }

    @Test
    void resetAllReturnsToTheClientsStartupValuesAsPostgreSqlDoes() throws Exception {
        Properties props = new Properties();
        props.setProperty("ApplicationName", "startup-app");
        // So that pgjdbc sends the name in its startup packet instead of SETting it after the login.
        props.setProperty("assumeMinServerVersion", "17");
        props.setProperty("options", "-c lock_timeout=2500ms");
        try (TestProxy proxy = TestProxy.start(ONE_BACKEND);
             Connection a = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props);
             Connection b = proxy.connect()) {
            execute(a, "SET lock_timeout = '1s'");
            execute(a, "SET application_name = 'changed'");
            assertThat(single(b, "SHOW lock_timeout")).isEqualTo("0");
            execute(a, "RESET ALL");
            assertThat(single(a, "SHOW lock_timeout")).isEqualTo("2500ms");
            assertThat(single(a, "SHOW application_name")).isEqualTo("startup-app");
            assertThat(single(b, "SHOW application_name")).isNotEqualTo("startup-app");
        }
    }

    @Test
    void aStartupParameterNoSharedBackendCanTakeIsSkippedAndTheOthersStillApply() throws Exception {
        Properties props = new Properties();
        // ignore_system_indexes may be given only at connection start.
        props.setProperty("options", "-c ignore_system_indexes=on -c lock_timeout=3s");
        try (TestProxy proxy = TestProxy.start(ONE_BACKEND); Connection warm = proxy.connect()) {
            single(warm, "SELECT 1");
            try (Connection a = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, props)) {
                assertThat(single(a, "SHOW lock_timeout")).isEqualTo("3s");
                assertThat(single(a, "SHOW lock_timeout")).isEqualTo("3s");
                assertThat(single(warm, "SHOW lock_timeout")).isEqualTo("0");
                assertThat(single(a, "SHOW lock_timeout")).isEqualTo("3s");
            }
        }
    }

    @Test
    void sessionModeKeepsEverySettingWithItsBackendAndResetsItForTheNextClient() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: session\nmax_size: 1")) {
            String backend;
            try (Connection a = proxy.connect()) {
                backend = single(a, "SELECT pg_backend_pid()::text");
                execute(a, "SET default_transaction_read_only = on");
                assertThat(single(a, "SELECT set_config('myapp.x', 'a', false)")).isEqualTo("a");
                assertThat(single(a, "SHOW default_transaction_read_only")).isEqualTo("on");
                assertThat(single(a, "SHOW myapp.x")).isEqualTo("a");
                assertThat(single(a, "SELECT pg_backend_pid()::text")).isEqualTo(backend);
            }
            try (Connection b = proxy.connect()) {
                assertThat(single(b, "SELECT pg_backend_pid()::text")).isEqualTo(backend);
                assertThat(single(b, "SHOW default_transaction_read_only")).isEqualTo("off");
                assertThat(single(b, "SELECT coalesce(current_setting('myapp.x', true), '')")).isEmpty();
            }
        }
    }

    @Test
    void aTableCreatedInPgTempPinsItsClientAndNeverReachesTheNextOne() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2")) {
            try (Connection a = proxy.connect()) {
                execute(a, "CREATE TABLE pg_temp.settings_it_tmp (v int)");
                execute(a, "INSERT INTO pg_temp.settings_it_tmp VALUES (1)");
                try (Connection b = proxy.connect()) {
                    assertThat(single(b, "SELECT count(*)::text FROM pg_tables WHERE tablename = 'settings_it_tmp'"
                            + " AND schemaname = pg_my_temp_schema()::regnamespace::text")).isEqualTo("0");
                    assertThatThrownBy(() -> single(b, "SELECT count(*) FROM pg_temp.settings_it_tmp"))
                            .hasMessageContaining("does not exist");
                }
                assertThat(single(a, "SELECT count(*)::text FROM pg_temp.settings_it_tmp")).isEqualTo("1");
            }
        }
    }

    @Test
    void sessionStateMadeBySqlPinsItsClient() throws Exception {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        String[][] cases = {
            {"PREPARE settings_it_p AS SELECT 1", "SELECT count(*)::text FROM pg_prepared_statements"
                + " WHERE name = 'settings_it_p'"},
            {"SELECT pg_advisory_lock(913013)", "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'"
                + " AND objid = 913013 AND pid = pg_backend_pid()"},
            {"BEGIN; DECLARE settings_it_c CURSOR WITH HOLD FOR SELECT 1; COMMIT",
                "SELECT count(*)::text FROM pg_cursors WHERE name = 'settings_it_c'"},
        };
        for (String[] c : cases) {
            try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
                 Connection a = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, simple)) {
                execute(a, c[0]);
                try (Connection b = proxy.connect()) {
                    assertThat(single(b, c[1])).as(c[0]).isEqualTo("0");
                }
                assertThat(single(a, c[1])).as(c[0]).isEqualTo("1");
            }
        }
    }

    @Test
    void clientEncodingIsReportedAsPostgreSqlSpellsIt() throws Exception {
        try (TestProxy proxy = TestProxy.start(ONE_BACKEND); Connection warm = proxy.connect()) {
            // The pool knows the server's parameters: the next logins are served without a backend.
            single(warm, "SELECT 1");
            assertThat(loginParameters(proxy.port(), "utf8").get("client_encoding")).isEqualTo("UTF8");
            assertThat(loginParameters(proxy.port(), "unicode").get("client_encoding")).isEqualTo("UTF8");
            assertThat(loginParameters(proxy.port(), "latin1").get("client_encoding")).isEqualTo("LATIN1");
        }
    }

    /** The ParameterStatus values a trust login with this client_encoding is told. */
    private static Map<String, String> loginParameters(int port, String encoding) throws Exception {
        Map<String, String> parameters = new LinkedHashMap<>();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            StartupPacket.send(out, 3 << 16, "user", "trustuser", "database", "appdb", "client_encoding", encoding);
            while (true) {
                char t = (char) in.readByte();
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                if (t == 'R' && body[3] == 3) {
                    byte[] password = "trust-secret\0".getBytes(StandardCharsets.UTF_8);
                    out.writeByte('p');
                    out.writeInt(4 + password.length);
                    out.write(password);
                    out.flush();
                } else if (t == 'S') {
                    String[] pair = new String(body, StandardCharsets.UTF_8).split("\0");
                    parameters.put(pair[0], pair.length > 1 ? pair[1] : "");
                } else if (t == 'E') {
                    throw new IllegalStateException(new String(body, StandardCharsets.UTF_8));
                } else if (t == 'Z') {
                    out.write(new byte[] {'X', 0, 0, 0, 4});
                    out.flush();
                    return parameters;
                }
            }
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
