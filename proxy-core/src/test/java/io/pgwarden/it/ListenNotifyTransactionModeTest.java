package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Issue 13 item 11: in transaction mode a client that LISTENs keeps receiving notifications between its
 * transactions, through one listening backend per pool, as a direct connection would.
 */
class ListenNotifyTransactionModeTest {

    private static final String MODE = "pool_mode: transaction\nmax_size: 2";

    @Test
    void aListenerIdleBetweenTransactionsGetsWhatProxyClientsAndDirectSessionsNotify() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection listener = proxy.connect();
             Connection sender = proxy.connect(); Connection direct = direct()) {
            run(listener, "LISTEN tx_idle");
            // Transactions of its own between, each on whichever backend is free.
            run(listener, "SELECT 1");
            run(listener, "SELECT 2");
            run(sender, "NOTIFY tx_idle, 'from a proxy client'");
            List<PGNotification> got = await(listener, 1);
            assertThat(got.get(0).getName()).isEqualTo("tx_idle");
            assertThat(got.get(0).getParameter()).isEqualTo("from a proxy client");

            run(direct, "NOTIFY tx_idle, 'from a direct session'");
            got = await(listener, 1);
            assertThat(got.get(0).getParameter()).isEqualTo("from a direct session");
            assertThat(got.get(0).getPID()).as("the notifying backend's pid, as PostgreSQL sends it")
                    .isEqualTo(direct.unwrap(PGConnection.class).getBackendPID());
        }
    }

    @Test
    void aNotifyInsideATransactionArrivesAtItsCommitAndNeverAfterARollback() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection listener = proxy.connect();
             Connection sender = proxy.connect(); Connection direct = direct()) {
            run(listener, "LISTEN tx_commit");
            sender.setAutoCommit(false);
            run(sender, "NOTIFY tx_commit, 'rolled back'");
            sender.rollback();
            run(sender, "NOTIFY tx_commit, 'committed'");
            run(direct, "NOTIFY tx_commit, 'while the sender is still open'");
            List<PGNotification> got = await(listener, 1);
            assertThat(got).extracting(PGNotification::getParameter)
                    .containsExactly("while the sender is still open");
            sender.commit();
            got = await(listener, 1);
            assertThat(got).extracting(PGNotification::getParameter).containsExactly("committed");
        }
    }

    @Test
    void aListenerInsideATransactionGetsItsNotificationsRightAfterItEnds() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection busy = proxy.connect();
             Connection idle = proxy.connect(); Connection direct = direct()) {
            run(busy, "LISTEN tx_later");
            run(idle, "LISTEN tx_later");
            busy.setAutoCommit(false);
            run(busy, "SELECT 1");
            run(direct, "NOTIFY tx_later, 'one'");
            run(direct, "NOTIFY tx_later, 'two'");
            // The idle one has them at once, so the hub has handed them on to both.
            assertThat(awaitUntil(idle, "two")).extracting(PGNotification::getParameter).containsExactly("one", "two");
            run(busy, "SELECT 2");
            assertThat(busy.unwrap(PGConnection.class).getNotifications())
                    .as("as PostgreSQL does, nothing while the transaction is open").isEmpty();
            busy.commit();
            assertThat(awaitUntil(busy, "two")).extracting(PGNotification::getParameter).containsExactly("one", "two");
        }
    }

    @Test
    void aListenerThatKeepsItsTransactionOpenHasAtMostAMegabyteKeptAndIsWarnedOfTheRest() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection busy = proxy.connect();
             Connection watcher = proxy.connect(); Connection direct = direct()) {
            run(busy, "LISTEN tx_flood");
            run(watcher, "LISTEN tx_flood_done");
            busy.setAutoCommit(false);
            run(busy, "SELECT 1");
            String filler = "x".repeat(7_900);
            for (int i = 0; i < 200; i++) {
                run(direct, "NOTIFY tx_flood, '" + i + " " + filler + "'");
            }
            run(direct, "NOTIFY tx_flood_done, 'done'");
            // The hub hands notifications on in the order they came: the busy client's are all in by now.
            assertThat(await(watcher, 1)).extracting(PGNotification::getParameter).containsExactly("done");
            busy.commit();
            run(direct, "NOTIFY tx_flood, 'after'");
            List<PGNotification> got = awaitUntil(busy, "after");
            assertThat(got.size() - 1).as("kept while the transaction was open").isBetween(100, 135);
            assertThat(got.get(0).getParameter()).startsWith("0 ");
            assertThat((Object) busy.getWarnings()).isNotNull();
            assertThat(busy.getWarnings().getMessage()).contains("notifications for this connection were dropped");
        }
    }

    @Test
    void unlistenStopsDeliveryOfThatChannelOnly() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection listener = proxy.connect();
             Connection direct = direct()) {
            run(listener, "LISTEN tx_kept; LISTEN \"Tx_Quoted\"");
            run(listener, "LISTEN tx_dropped");
            run(listener, "UNLISTEN tx_dropped");
            run(direct, "NOTIFY tx_dropped, 'unlistened'");
            run(direct, "NOTIFY \"Tx_Quoted\", 'quoted'");
            run(direct, "NOTIFY tx_kept, 'kept'");
            assertThat(awaitUntil(listener, "kept")).extracting(PGNotification::getParameter)
                    .containsExactly("quoted", "kept");

            // A rolled-back UNLISTEN leaves the channel listened to, as PostgreSQL does.
            listener.setAutoCommit(false);
            run(listener, "UNLISTEN tx_kept");
            listener.rollback();
            listener.setAutoCommit(true);
            run(direct, "NOTIFY tx_kept, 'still listened'");
            assertThat(await(listener, 1)).extracting(PGNotification::getParameter).containsExactly("still listened");

            run(listener, "UNLISTEN *");
            run(listener, "LISTEN tx_marker");
            run(direct, "NOTIFY tx_kept, 'after unlisten all'");
            run(direct, "NOTIFY tx_marker, 'marker'");
            assertThat(awaitUntil(listener, "marker")).extracting(PGNotification::getParameter)
                    .containsExactly("marker");
        }
    }

    @Test
    void twoListenersOnOneChannelBothReceiveAndAListenerGetsItsOwnNotification() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection first = proxy.connect();
             Connection second = proxy.connect(); Connection direct = direct()) {
            run(first, "LISTEN tx_shared");
            run(second, "LISTEN tx_shared");
            run(first, "NOTIFY tx_shared, 'to both'");
            assertThat(await(first, 1)).extracting(PGNotification::getParameter).containsExactly("to both");
            assertThat(await(second, 1)).extracting(PGNotification::getParameter).containsExactly("to both");

            // Directly, too, the notifying session receives its own notification.
            run(direct, "LISTEN tx_shared");
            run(direct, "NOTIFY tx_shared, 'direct self'");
            assertThat(await(direct, 1)).extracting(PGNotification::getParameter).containsExactly("direct self");
            assertThat(await(first, 1)).extracting(PGNotification::getParameter).containsExactly("direct self");
            assertThat(await(second, 1)).extracting(PGNotification::getParameter).containsExactly("direct self");

            first.close();
            run(direct, "NOTIFY tx_shared, 'after the first left'");
            assertThat(await(second, 1)).extracting(PGNotification::getParameter)
                    .containsExactly("after the first left");
        }
    }

    @Test
    void clientsThatNeverListenOpenNoListeningBackendAndTheLastListenerClosesIt() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE)) {
            Timestamp since = TestPostgres.shared().clock();
            try (Connection a = proxy.connect(); Connection b = proxy.connect()) {
                for (int i = 0; i < 20; i++) {
                    run(a, "SELECT 1");
                    run(b, "NOTIFY tx_nobody, 'unheard'");
                }
                assertThat(listeningBackends(since)).isZero();
                assertThat(TestPostgres.shared().backendsSince(since, "app")).isLessThanOrEqualTo(2);
            }
            try (Connection listener = proxy.connect()) {
                run(listener, "LISTEN tx_count");
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> listeningBackends(since) == 1);
                try (Connection other = proxy.connect()) {
                    run(other, "LISTEN tx_count_other");
                    assertThat(listeningBackends(since)).as("one per pool").isEqualTo(1);
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> listeningBackends(since) == 0);
        }
    }

    @Test
    void aPinnedClientListensOnItsOwnBackend() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection pinned = proxy.connect();
             Connection direct = direct()) {
            Timestamp since = TestPostgres.shared().clock();
            run(pinned, "CREATE TEMP TABLE pins_me (v int)");
            run(pinned, "LISTEN tx_pinned");
            run(direct, "NOTIFY tx_pinned, 'to the pinned one'");
            assertThat(await(pinned, 1)).extracting(PGNotification::getPID)
                    .as("sent by the notifying backend").containsExactly(direct.unwrap(PGConnection.class)
                            .getBackendPID());
            assertThat(listeningBackends(since)).isZero();
        }
    }

    @Test
    void aKilledListeningBackendIsReplacedAndItsChannelsListenedToAgain() throws Exception {
        try (TestProxy proxy = TestProxy.start(MODE); Connection listener = proxy.connect();
             Connection direct = direct(); Connection su = TestPostgres.shared().superuser()) {
            run(listener, "LISTEN tx_killed");
            run(direct, "NOTIFY tx_killed, 'before'");
            assertThat(await(listener, 1)).extracting(PGNotification::getParameter).containsExactly("before");
            try (Statement s = su.createStatement(); ResultSet rs = s.executeQuery("SELECT "
                    + "pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                    + "'pgwarden notifications'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).isTrue();
            }
            List<PGNotification> got = new ArrayList<>();
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
                run(direct, "NOTIFY tx_killed, 'after'");
                for (PGNotification n : listener.unwrap(PGConnection.class).getNotifications(200)) {
                    got.add(n);
                }
                return !got.isEmpty();
            });
            assertThat(got).extracting(PGNotification::getParameter).containsOnly("after");
            // The client's own connection never noticed.
            run(listener, "SELECT 1");
        }
    }

    @Test
    void theSharedBackendListensToNothingAfterTheListenersTransaction() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1");
             Connection listener = proxy.connect(); Connection other = proxy.connect()) {
            run(listener, "LISTEN tx_private");
            assertThat((Object) listener.getWarnings()).as("no warning: LISTEN works").isNull();
            try (Statement s = other.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_listening_channels()")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
            run(other, "NOTIFY tx_private, 'x'");
            assertThat(await(listener, 1)).hasSize(1);
            assertThat(other.unwrap(PGConnection.class).getNotifications()).as("nothing for the client that never listened").isEmpty();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static Connection direct() throws SQLException {
        return DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"), "app",
                TestPostgres.APP_PASSWORD);
    }

    private static void run(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Exactly {@code count} notifications, waiting (bounded) until they have all come. */
    private static List<PGNotification> await(Connection c, int count) throws SQLException {
        List<PGNotification> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (got.size() < count && System.nanoTime() < deadline) {
            PGNotification[] batch = c.unwrap(PGConnection.class).getNotifications(10_000);
            got.addAll(List.of(batch));
        }
        assertThat(got).extracting(n -> n.getName() + ":" + n.getParameter() + "@" + n.getPID()).hasSize(count);
        return got;
    }

    /** Everything received up to and including the notification whose payload is {@code last}. */
    private static List<PGNotification> awaitUntil(Connection c, String last) throws SQLException {
        List<PGNotification> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while ((got.isEmpty() || !got.get(got.size() - 1).getParameter().equals(last))
                && System.nanoTime() < deadline) {
            got.addAll(List.of(c.unwrap(PGConnection.class).getNotifications(10_000)));
        }
        return got;
    }

    /** Listening backends opened since {@code since}: those of earlier tests' proxies may still be ending. */
    private static int listeningBackends(Timestamp since) throws SQLException {
        try (Connection su = TestPostgres.shared().superuser(); java.sql.PreparedStatement ps = su.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgwarden notifications' "
                        + "AND backend_start >= ?")) {
            ps.setTimestamp(1, since);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
