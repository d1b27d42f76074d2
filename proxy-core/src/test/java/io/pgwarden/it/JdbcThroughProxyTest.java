package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Acceptance 1: an application's everyday JDBC work gives the same answers through pgwarden in both pool modes. */
class JdbcThroughProxyTest {

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void ddlDmlCommitRollbackAndAutocommitBehaveAsOnPostgres(String mode) throws Exception {
        String table = "items_" + mode;
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 3");
             Connection c = proxy.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS " + table);
                s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, name text)");
                s.executeUpdate("INSERT INTO " + table + " VALUES (1, 'one'), (2, 'two')");
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE " + table + " SET name = 'uno' WHERE id = 1");
                s.executeUpdate("DELETE FROM " + table + " WHERE id = 2");
            }
            c.commit();
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + table + " VALUES (3, 'three')");
            }
            c.rollback();
            c.setAutoCommit(true);

            try (Connection other = proxy.connect(); Statement s = other.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, name FROM " + table + " ORDER BY id")) {
                List<String> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(rs.getInt(1) + "=" + rs.getString(2));
                }
                assertThat(rows).containsExactly("1=uno");
            }
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + table);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void streamsALargeResultWithNullsAndUnicodeIntact(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode);
             Connection c = proxy.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'zażółć ✓ 漢字 ' || g END "
                             + "FROM generate_series(1, ?) g")) {
            ps.setInt(1, 100_000);
            long count = 0;
            long sum = 0;
            int nulls = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int g = rs.getInt(1);
                    String text = rs.getString(2);
                    if (text == null) {
                        nulls++;
                    } else {
                        assertThat(text).isEqualTo("zażółć ✓ 漢字 " + g);
                    }
                    sum += g;
                    count++;
                }
            }
            assertThat(count).isEqualTo(100_000);
            assertThat(sum).isEqualTo(100_000L * 100_001 / 2);
            assertThat(nulls).isEqualTo(100_000 / 7);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void preparedStatementsWithParametersWorkRepeatedly(String mode) throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode);
             Connection c = proxy.connect();
             PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, ?::text")) {
            for (int i = 0; i < 20; i++) {
                ps.setInt(1, i);
                ps.setString(2, i % 2 == 0 ? null : "v" + i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(i * 2);
                    assertThat(rs.getString(2)).isEqualTo(i % 2 == 0 ? null : "v" + i);
                }
            }
        }
    }
}
