package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgwarden.it.ReplicatedPostgres.Node;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 17: the failover tests' cluster is a real primary with a real streaming standby, which can be switched
 * over, crashed and fenced. The tests run in order on one cluster, since each starts from the previous one's state
 * and a cluster costs seconds to build.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicatedPostgresTest {

    private static ReplicatedPostgres cluster;
    private static long startMillis;

    @BeforeAll
    static void startCluster() throws Exception {
        long started = System.nanoTime();
        cluster = ReplicatedPostgres.start();
        startMillis = millisSince(started);
        try (Connection c = app(cluster.a()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id int PRIMARY KEY, written_on text)");
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void rowsWrittenOnThePrimaryStreamToAStandbyThatRefusesWrites() throws Exception {
        insert(cluster.a(), 1);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> count(cluster.b(), 1) == 1);
        assertThat(cluster.isInRecovery(cluster.a())).isFalse();
        assertThat(cluster.isInRecovery(cluster.b())).isTrue();
        assertThatThrownBy(() -> insert(cluster.b(), 2))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
        insert(cluster.a(), 3);
        cluster.awaitReplayed(cluster.b());
        assertThat(count(cluster.b(), 3)).isEqualTo(1);
        System.out.printf("ReplicatedPostgres: cluster of two started in %d ms%n", startMillis);
    }

    @Test
    @Order(2)
    void afterAFastStopTheStandbyIsPromotedAndTheOldPrimaryFollowsItAsAStandby() throws Exception {
        insert(cluster.a(), 10);
        long stopping = System.nanoTime();
        cluster.stopFast(cluster.a());
        long stopMillis = millisSince(stopping);
        // Everything A acknowledged before its fast stop was streamed to B.
        assertThat(count(cluster.b(), 10)).isEqualTo(1);

        long promoting = System.nanoTime();
        cluster.promote(cluster.b());
        long promoteMillis = millisSince(promoting);
        assertThat(cluster.isInRecovery(cluster.b())).isFalse();
        insert(cluster.b(), 11);

        long demoting = System.nanoTime();
        cluster.startAsStandbyOf(cluster.a(), cluster.b());
        long demoteMillis = millisSince(demoting);
        assertThat(cluster.isInRecovery(cluster.a())).isTrue();
        insert(cluster.b(), 12);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> count(cluster.a(), 11) + count(cluster.a(), 12) == 2);
        cluster.awaitReplayed(cluster.a());
        assertThatThrownBy(() -> insert(cluster.a(), 13))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
        System.out.printf("ReplicatedPostgres: fast stop %d ms, promotion %d ms, "
                + "old primary back as standby in %d ms%n", stopMillis, promoteMillis, demoteMillis);
    }

    @Test
    @Order(3)
    void aFencedPrimaryStartsReadOnlySessionsAndRefusesTheirWrites() throws Exception {
        Node primary = cluster.b();
        try (Connection before = app(primary)) {
            cluster.setReadOnly(primary, true);
            try (Connection c = app(primary); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SHOW default_transaction_read_only")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("on");
            }
            assertThatThrownBy(() -> insert(primary, 20))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
            // The server is still a primary: only its default changed, which is what a client cannot tell apart.
            assertThat(cluster.isInRecovery(primary)).isFalse();
            assertThat(before.isValid(5)).isTrue();
        }
        cluster.setReadOnly(primary, false);
        insert(primary, 21);
    }

    @Test
    @Order(4)
    void anImmediateStopClosesThePortAtOnceAndTheNodeComesBack() throws Exception {
        Node standby = cluster.a();
        long stopping = System.nanoTime();
        cluster.stopImmediate(standby);
        long stopMillis = millisSince(stopping);
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", cluster.port(standby)), 2000);
            }
        }).isInstanceOf(ConnectException.class);
        assertThatThrownBy(() -> cluster.superuser(standby).close()).isInstanceOf(SQLException.class);

        long starting = System.nanoTime();
        cluster.start(standby);
        long startAgainMillis = millisSince(starting);
        insert(cluster.b(), 30);
        cluster.awaitReplayed(standby);
        assertThat(count(standby, 30)).isEqualTo(1);
        assertThat(cluster.isInRecovery(standby)).isTrue();
        System.out.printf("ReplicatedPostgres: immediate stop %d ms, crashed standby back in %d ms%n",
                stopMillis, startAgainMillis);
    }

    @Test
    @Order(5)
    void afterAPrimaryCrashTheStandbyIsPromotedWithEveryReplayedCommit() throws Exception {
        Node primary = cluster.b();
        Node standby = cluster.a();
        insert(primary, 40);
        cluster.awaitReplayed(standby);
        cluster.stopImmediate(primary);
        long promoting = System.nanoTime();
        cluster.promote(standby);
        long promoteMillis = millisSince(promoting);
        assertThat(cluster.isInRecovery(standby)).isFalse();
        assertThat(count(standby, 40)).isEqualTo(1);
        insert(standby, 41);
        // The crashed primary had sent all its WAL, so its WAL ends where the new timeline forked and it follows.
        cluster.startAsStandbyOf(primary, standby);
        insert(standby, 42);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> count(primary, 42) == 1);
        assertThat(cluster.isInRecovery(primary)).isTrue();
        System.out.printf("ReplicatedPostgres: promotion after a crash %d ms%n", promoteMillis);
    }

    private static Connection app(Node node) throws SQLException {
        return DriverManager.getConnection(cluster.url(node, "appdb"), "app", TestPostgres.APP_PASSWORD);
    }

    private static void insert(Node node, int id) throws SQLException {
        try (Connection c = app(node); Statement s = c.createStatement()) {
            s.execute("INSERT INTO items VALUES (" + id + ", '" + node.name() + "')");
        }
    }

    private static int count(Node node, int id) throws SQLException {
        try (Connection c = app(node); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE id = " + id)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
