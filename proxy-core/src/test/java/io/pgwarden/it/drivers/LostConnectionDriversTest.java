package io.pgwarden.it.drivers;

import static io.pgwarden.it.drivers.DriverCases.assertSameOutcome;
import static io.pgwarden.it.drivers.DriverCases.assumeInstalled;
import static io.pgwarden.it.drivers.DriverCases.poolFor;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 13 items 1 and 8 with real drivers: a backend lost under a client. Directly the client's connection
 * dies with it; through pgwarden it is kept, so there the error must be the one the driver raises directly
 * (its class and SQLSTATE) and the same connection must then work.
 */
class LostConnectionDriversTest {

    private static final DriverCases CASES = new DriverCases();

    static Stream<Arguments> lostTransactionDrivers() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2, Driver.PSYCOPG3, Driver.ASYNCPG, Driver.PG8000,
                Driver.NODE_PG);
    }

    static Stream<Arguments> duringQueryDrivers() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2, Driver.PSYCOPG3, Driver.ASYNCPG, Driver.NODE_PG);
    }

    static Stream<Arguments> idleDrivers() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2, Driver.PSYCOPG3);
    }

    static Stream<Arguments> psycopg3() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG3);
    }

    static Stream<Arguments> psycopg2() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2);
    }

    /** Item 1: COMMIT of a transaction lost while idle raises, and the connection's next transaction works. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("lostTransactionDrivers")
    void commitOfALostTransactionRaisesAndTheNextTransactionWorks(Driver driver, Target target) {
        endLostTransaction(driver, target, "lost_commit", "commit");
    }

    /** Item 1 in the extended protocol: psycopg 3 pipelines the last INSERT and the COMMIT of the lost transaction. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("psycopg3")
    void aPipelinedCommitOfALostTransactionRaisesAndTheNextTransactionWorks(Driver driver, Target target) {
        endLostTransaction(driver, target, "lost_commit_pipeline", "commit");
    }

    /** Item 1: ROLLBACK of a lost transaction is what the client asked for: it succeeds, the next works. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("lostTransactionDrivers")
    void rollbackOfALostTransactionSucceedsAndTheNextTransactionWorks(Driver driver, Target target) {
        assumeInstalled(driver);
        Map<String, Object> direct = CASES.direct(driver, "lost_rollback", Map.of());
        assertThat(direct.get("rows")).as("directly the insert of the lost transaction is gone").isNull();
        Map<String, Object> via = through(driver, "lost_rollback", target);
        assertSameOutcome(driver, target, direct, via, Set.of(), Set.of("rollback", "next_transaction", "rows",
                "closed"));
        assertThat(via.get("rollback")).as("rollback() through pgwarden: %s", via).isEqualTo("ok");
        assertThat(via.get("next_transaction")).as("next transaction on the same connection: %s", via)
                .isEqualTo("ok");
        assertThat(via.get("rows")).as("only the next transaction's row: %s", via).isEqualTo("{2}");
    }

    /**
     * Item 1 as the troubleshooting guide's app runs it: psycopg2's ThreadedConnectionPool, rollback() on error,
     * putconn. Directly the pool replaces the dead connection; through pgwarden the kept one must serve.
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("psycopg2")
    void thePooledAppRecoversFromALostCommit(Driver driver, Target target) {
        assumeInstalled(driver);
        Map<String, Object> direct = CASES.direct(driver, "lost_commit_pool", Map.of());
        assertThat(direct.get("rows")).isEqualTo("{1,2}");
        assertSameOutcome(driver, target, direct, through(driver, "lost_commit_pool", target),
                Set.of("transactions"), Set.of());
    }

    /** Item 8: the statement after an idle backend was terminated raises as directly; then the connection works. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("idleDrivers")
    void aStatementAfterTheBackendWasTerminatedWhileIdle(Driver driver, Target target) {
        keptAfterFault(driver, target, "terminated_statement");
    }

    /** Item 8: a backend terminated during the client's statement: AdminShutdown (57P01) where directly. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("duringQueryDrivers")
    void aBackendTerminatedDuringTheStatement(Driver driver, Target target) {
        keptAfterFault(driver, target, "terminated_during_query");
    }

    /**
     * Item 8: pgwarden's client.idle_in_transaction_timeout must reach the client as PostgreSQL's own
     * idle_in_transaction_session_timeout does: IdleInTransactionSessionTimeout, SQLSTATE 25P03. psycopg 3 reads
     * that error directly. psycopg2 does not (directly its libpq reports "server closed the connection
     * unexpectedly", as the FATAL is lost with the closed socket); through pgwarden, which can hold the error
     * for the client's next statement, the issue asks for 25P03 there as well.
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("idleDrivers")
    void idleInTransactionTimeoutRaisesTheSameError(Driver driver, Target target) {
        assumeInstalled(driver);
        Map<String, Object> direct = CASES.direct(driver, "idle_timeout", DriverCases.env("SERVER_IDLE_TIMEOUT", "1s"));
        String timeout = "\nclient:\n  idle_in_transaction_timeout: 1s";
        Map<String, Object> via = CASES.through(driver, "idle_timeout", target,
                poolFor(target) + timeout, Map.of());
        if (driver == Driver.PSYCOPG2) {
            assertThat(direct.get("statement")).isEqualTo("ERR:OperationalError/OperationalError:");
            assertSameOutcome(driver, target, direct, via, Set.of(), Set.of("statement"));
        } else {
            assertThat(String.valueOf(direct.get("statement"))).endsWith("/IdleInTransactionSessionTimeout:25P03");
            assertSameOutcome(driver, target, direct, via, Set.of("statement"), Set.of());
        }
        assertThat(String.valueOf(via.get("statement"))).as("through pgwarden: %s", via)
                .endsWith("/IdleInTransactionSessionTimeout:25P03");
    }

    private static void endLostTransaction(Driver driver, Target target, String testCase, String end) {
        assumeInstalled(driver);
        Map<String, Object> direct = CASES.direct(driver, testCase, Map.of());
        assertThat(String.valueOf(direct.get(end))).as("directly %s() raises", end).startsWith("ERR:");
        Map<String, Object> via = through(driver, testCase, target);
        assertSameOutcome(driver, target, direct, via, Set.of(end), Set.of("next_transaction", "rows", "closed"));
        assertThat(via.get("next_transaction")).as("next transaction on the same connection: %s", via)
                .isEqualTo("ok");
        assertThat(via.get("rows")).as("only the next transaction's row: %s", via).isEqualTo("{2}");
    }

    private static void keptAfterFault(Driver driver, Target target, String testCase) {
        assumeInstalled(driver);
        Map<String, Object> direct = CASES.direct(driver, testCase, Map.of());
        Map<String, Object> via = through(driver, testCase, target);
        assertSameOutcome(driver, target, direct, via, Set.of("statement"), Set.of("rollback", "after"));
        assertThat(via.get("rollback")).as("rollback() after the error: %s", via).isEqualTo("ok");
        assertThat(via.get("after")).as("the same connection afterwards: %s", via).isEqualTo("ok");
    }

    private static Map<String, Object> through(Driver driver, String testCase, Target target) {
        return CASES.through(driver, testCase, target, poolFor(target), Map.of());
    }
}
