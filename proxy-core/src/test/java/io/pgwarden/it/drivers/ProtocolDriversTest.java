package io.pgwarden.it.drivers;

import static io.pgwarden.it.drivers.DriverCases.SESSION_POOL;
import static io.pgwarden.it.drivers.DriverCases.assumeInstalled;
import static io.pgwarden.it.drivers.DriverCases.poolFor;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Real drivers' everyday use, cancel, quick disconnect and LISTEN/NOTIFY (issue 13 items 6, 7 and 11). */
class ProtocolDriversTest {

    private static final DriverCases CASES = new DriverCases();

    static Stream<Arguments> allDrivers() {
        return DriverCases.throughPgwarden(Driver.values());
    }

    static Stream<Arguments> psycopg2() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2);
    }

    static Stream<Arguments> nodePg() {
        return DriverCases.throughPgwarden(Driver.NODE_PG);
    }

    static Stream<Arguments> listeningDrivers() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2, Driver.PSYCOPG3, Driver.ASYNCPG, Driver.NODE_PG);
    }

    /** Connect, a simple and a parameterised query, a transaction, an error and the recovery from it. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("allDrivers")
    void smoke(Driver driver, Target target) {
        Map<String, Object> direct = CASES.sameAsDirect(driver, target, "smoke", poolFor(target));
        assertThat(direct).containsEntry("count_after_recovery", 2);
    }

    /**
     * Item 6: once psycopg2's conn.cancel() has returned, the cancel has reached PostgreSQL, so it never cancels
     * the connection's next query (20 cancels landing around the end of a short query).
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("psycopg2")
    void aCancelNeverHitsTheNextQuery(Driver driver, Target target) {
        Map<String, Object> direct = CASES.sameAsDirect(driver, target, "cancel", poolFor(target));
        assertThat(direct).containsEntry("next_query_cancelled", 0);
    }

    /** Item 7: node-postgres' client.end() right after connect() started leaves no error, as directly. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("nodePg")
    void aQuickDisconnectLeavesNoError(Driver driver, Target target) {
        Map<String, Object> direct = CASES.sameAsDirect(driver, target, "quick_disconnect", poolFor(target));
        assertThat(direct).containsEntry("error_events", List.of());
    }

    /**
     * Item 11: a client that LISTENs gets the notifications sent (from a direct connection) while it is idle
     * between its transactions. Two backends, so pgwarden may keep one listening.
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("listeningDrivers")
    void aListenerReceivesNotificationsBetweenTransactions(Driver driver, Target target) {
        String pool = target == Target.TRANSACTION ? "pool_mode: transaction\nmax_size: 2\nquery_wait_timeout: 5s" : SESSION_POOL;
        Map<String, Object> direct = CASES.sameAsDirect(driver, target, "listen", pool);
        assertThat(direct).containsEntry("received", List.of("one", "two"));
    }

    /**
     * Item 10: psycopg2's replication connections (replication=database for IDENTIFY_SYSTEM, then a physical
     * stream) pass through pgwarden to a dedicated backend, and stream the WAL of a write made after they started.
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("psycopg2")
    void replicationConnectionsPassThrough(Driver driver, Target target) throws Exception {
        assumeInstalled(driver);
        ReplicationAccess.allow();
        Map<String, Object> direct = CASES.sameAsDirect(driver, target, "replication", poolFor(target));
        assertThat(direct).containsEntry("streamed_wal", true);
    }
}
