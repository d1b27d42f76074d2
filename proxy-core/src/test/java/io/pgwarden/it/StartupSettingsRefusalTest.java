package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A startup parameter PostgreSQL refuses at login (an unknown name, a value it cannot parse) is refused by
 * pgwarden at login too, with PostgreSQL's own FATAL, instead of a login that works and settings that silently
 * fail on every backend later.
 */
class StartupSettingsRefusalTest {

    /** Name, value pairs PostgreSQL 17 refuses in a StartupMessage. */
    private static final List<String[]> REFUSED = List.of(
            new String[] {"client_encoding", "LATHN1"},
            new String[] {"DateStyle", "garbage"},
            new String[] {"TimeZone", "Nowhere/Land"},
            new String[] {"foo", "bar"},
            new String[] {"work_mem", "abc"},
            new String[] {"options", "-c work_mem=abc"},
            new String[] {"options", "-c foo=bar"},
            new String[] {"search_path", "\"unclosed"});

    @ParameterizedTest
    @ValueSource(strings = {"transaction", "session"})
    void eachRefusedParameterGetsPostgresqlsFatalAndTheBackendServesTheNextClient(String mode) throws Exception {
        int direct = TestPostgres.shared().port();
        try (LogCapture log = new LogCapture()) {
            try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1")) {
                refusedThenServed(proxy, direct);
            }
            // Read once pgwarden is stopped: the capture is not safe against lines still being written.
            assertThat(log.lines("hidden_statement_failed")).isEmpty();
        }
    }

    private static void refusedThenServed(TestProxy proxy, int direct) throws Exception {
        // The pool knows its server's parameters, so a transaction-mode login could be served without a backend.
        try (Login first = login(proxy.port(), "application_name", "first")) {
            assertThat(first.error).isNull();
        }
        for (String[] p : REFUSED) {
            Login expected = login(direct, p);
            assertThat(expected.error).as("PostgreSQL refuses %s=%s", p[0], p[1]).isNotNull();
            Login got = login(proxy.port(), p);
            assertThat(got.error).as("%s=%s through pgwarden", p[0], p[1]).isNotNull();
            assertThat(got.error).as("%s=%s", p[0], p[1]).containsAllEntriesOf(fields(expected.error));
            assertThat(got.error.get('V')).isEqualTo("FATAL");
            assertThat(got.loggedIn).as("no AuthenticationOk for %s=%s", p[0], p[1]).isFalse();
        }
        // An uncommon value PostgreSQL takes is applied and reported as PostgreSQL reports it, twice (cached).
        for (int i = 0; i < 2; i++) {
            Login german = login(proxy.port(), "DateStyle", "German", "work_mem", "5MB");
            assertThat(german.error).isNull();
            assertThat(german.parameters).containsEntry("DateStyle", "German, DMY");
            assertThat(german.show("SHOW DateStyle")).isEqualTo("German, DMY");
            assertThat(german.show("SHOW work_mem")).isEqualTo("5MB");
            german.close();
        }
        Login plain = login(proxy.port(), "application_name", "after");
        assertThat(plain.error).isNull();
        assertThat(plain.show("SHOW work_mem")).as("the backend went back clean").isEqualTo("4MB");
        assertThat(plain.show("SHOW DateStyle")).isEqualTo("ISO, MDY");
        plain.close();
    }

    /**
     * In transaction mode a login whose settings the pool has seen accepted needs no backend, so it completes while
     * every backend is busy; a value not seen yet waits for one to be checked on.
     */
    @Test
    void settingsThePoolHasSeenAcceptedAreNotCheckedAgain() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1\nquery_wait_timeout: 1s")) {
            try (Login first = login(proxy.port(), "DateStyle", "German", "TimeZone", "Europe/Berlin")) {
                assertThat(first.error).isNull();
            }
            try (Login holder = login(proxy.port())) {
                holder.show("BEGIN");
                try (Login again = login(proxy.port(), "DateStyle", "German", "TimeZone", "Europe/Berlin")) {
                    assertThat(again.error).as("logged in without a backend").isNull();
                    assertThat(again.parameters).containsEntry("DateStyle", "German, DMY")
                            .containsEntry("TimeZone", "Europe/Berlin");
                }
                Login unseen = login(proxy.port(), "DateStyle", "SQL");
                assertThat(unseen.error).as("waited for a backend to check on").isNotNull();
                assertThat(unseen.error.get('C')).isEqualTo("53300");
                holder.show("COMMIT");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"transaction", "session"})
    void pgjdbcGetsTheSameErrorAsDirectly(String mode) throws Exception {
        Properties bad = new Properties();
        bad.setProperty("options", "-c work_mem=abc");
        SQLException direct = connectError(TestPostgres.shared().directUrl("appdb"), bad);
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1")) {
            SQLException through = connectError(proxy.url("appdb"), bad);
            assertThat(through.getSQLState()).isEqualTo(direct.getSQLState()).isEqualTo("22023");
            assertThat(through.getMessage()).isEqualTo(direct.getMessage());
            Properties good = new Properties();
            good.setProperty("options", "-c work_mem=6MB");
            try (Connection c = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, good);
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW work_mem")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("6MB");
            }
        }
    }

    private static SQLException connectError(String url, Properties extra) {
        Properties props = new Properties();
        props.putAll(extra);
        props.setProperty("user", "app");
        props.setProperty("password", TestPostgres.APP_PASSWORD);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        Throwable[] thrown = new Throwable[1];
        assertThatThrownBy(() -> DriverManager.getConnection(url, props).close())
                .isInstanceOf(SQLException.class).satisfies(t -> thrown[0] = t);
        return (SQLException) thrown[0];
    }

    /** The fields a client sees: severity, SQLSTATE, message, detail, hint. */
    private static Map<Character, String> fields(Map<Character, String> error) {
        Map<Character, String> out = new LinkedHashMap<>();
        for (char f : new char[] {'V', 'C', 'M', 'D', 'H'}) {
            if (error.containsKey(f)) {
                out.put(f, error.get(f));
            }
        }
        return out;
    }

    private static Login login(int port, String... params) throws Exception {
        String[] all = new String[params.length + 4];
        all[0] = "user";
        all[1] = "trustuser";
        all[2] = "database";
        all[3] = "appdb";
        System.arraycopy(params, 0, all, 4, params.length);
        return new Login(port, all);
    }

    /** A raw login as trustuser: the error it ended with, or the parameters it was told. */
    private static final class Login implements AutoCloseable {
        final Map<String, String> parameters = new LinkedHashMap<>();
        Map<Character, String> error;
        boolean loggedIn;
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;

        Login(int port, String... params) throws Exception {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            StartupPacket.send(socket.getOutputStream(), 3 << 16, params);
            out = new DataOutputStream(socket.getOutputStream());
            in = new DataInputStream(socket.getInputStream());
            while (true) {
                char type = (char) in.readByte();
                byte[] message = new byte[in.readInt() - 4];
                in.readFully(message);
                if (type == 'R' && message[3] == 3) {
                    send('p', "trust-secret");
                } else if (type == 'R' && message[3] == 0) {
                    loggedIn = true;
                } else if (type == 'S') {
                    String[] kv = new String(message, StandardCharsets.UTF_8).split("\0");
                    parameters.put(kv[0], kv.length > 1 ? kv[1] : "");
                } else if (type == 'E') {
                    error = parse(message);
                    // PostgreSQL closes after its FATAL.
                    assertThat(in.read()).isEqualTo(-1);
                    socket.close();
                    return;
                } else if (type == 'Z') {
                    return;
                }
            }
        }

        private void send(char type, String text) throws Exception {
            byte[] body = (text + "\0").getBytes(StandardCharsets.UTF_8);
            out.writeByte(type);
            out.writeInt(4 + body.length);
            out.write(body);
            out.flush();
        }

        /** The single value {@code sql} returns. */
        String show(String sql) throws Exception {
            send('Q', sql);
            String value = null;
            while (true) {
                char type = (char) in.readByte();
                byte[] message = new byte[in.readInt() - 4];
                in.readFully(message);
                if (type == 'D') {
                    int length = ((message[2] & 0xff) << 24) | ((message[3] & 0xff) << 16)
                            | ((message[4] & 0xff) << 8) | (message[5] & 0xff);
                    value = new String(message, 6, length, StandardCharsets.UTF_8);
                } else if (type == 'E') {
                    throw new IllegalStateException(parse(message).toString());
                } else if (type == 'Z') {
                    return value;
                }
            }
        }

        private static Map<Character, String> parse(byte[] message) {
            Map<Character, String> fields = new LinkedHashMap<>();
            int at = 0;
            while (at < message.length && message[at] != 0) {
                int end = at + 1;
                while (message[end] != 0) {
                    end++;
                }
                fields.put((char) message[at], new String(message, at + 1, end - at - 1, StandardCharsets.UTF_8));
                at = end + 1;
            }
            return fields;
        }

        @Override
        public void close() throws Exception {
            if (!socket.isClosed()) {
                out.writeByte('X');
                out.writeInt(4);
                out.flush();
                socket.close();
            }
        }
    }
}
