package io.pgwarden.it.drivers;

import static io.pgwarden.it.drivers.DriverCases.SESSION_POOL;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 13 items 2 to 5 with real drivers: what one client does to its session never shows in another's.
 * Through pgwarden in transaction mode the pool has one backend, so two clients share it whenever they can.
 */
class SessionStateDriversTest {

    private static final DriverCases CASES = new DriverCases();

    static Stream<Arguments> preparingDrivers() {
        return DriverCases.throughPgwarden(Driver.ASYNCPG, Driver.PSYCOPG3);
    }

    static Stream<Arguments> allDrivers() {
        return DriverCases.throughPgwarden(Driver.values());
    }

    static Stream<Arguments> encodingDrivers() {
        return DriverCases.throughPgwarden(Driver.PSYCOPG2, Driver.PSYCOPG3, Driver.NODE_PG);
    }

    /**
     * Item 2: after ALTER TABLE (from a direct connection) a client preparing the statement afresh gets the
     * current column type, and the client that prepared it before gets what it gets directly (asyncpg re-prepares
     * on InvalidCachedStatementError; psycopg 3 raises "cached plan must not change result type").
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("preparingDrivers")
    void aFreshPrepareSeesTheCurrentSchema(Driver driver, Target target) {
        Map<String, Object> direct = sameAsDirect(driver, target, "stale_prepared");
        assertThat(direct.get("b_value")).isEqualTo("datetime.time(12, 34, 56)");
    }

    /** Item 3: SET default_transaction_read_only and standard_conforming_strings stay with the client. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("allDrivers")
    void settingsDoNotLeakToAnotherClient(Driver driver, Target target) {
        Map<String, Object> direct = sameAsDirect(driver, target, "settings_do_not_leak");
        assertThat(direct).containsEntry("b_read_only", "off").containsEntry("a_read_only", "on")
                .containsEntry("b_insert", "ok");
    }

    /** Item 4: a table created as pg_temp.x is the creating client's alone. */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("allDrivers")
    void aPgTempTableIsNotSeenByAnotherClient(Driver driver, Target target) {
        // Two backends: once the client that created the table holds its backend, the other needs a second one.
        Map<String, Object> direct = CASES.sameAsDirect(driver, target, "temp_table",
                target == Target.TRANSACTION ? "pool_mode: transaction\nmax_size: 2\nquery_wait_timeout: 5s"
                        : SESSION_POOL);
        assertThat(direct).containsEntry("b_sees", false).containsEntry("a_sees", true);
    }

    /**
     * Item 5: asked for client_encoding=utf8, the driver is told the server's spelling, UTF8 (also when it is
     * served by a backend an earlier client left in the pool).
     */
    @ParameterizedTest(name = "{0} via {1}")
    @MethodSource("encodingDrivers")
    void clientEncodingIsReportedAsTheServerSpellsIt(Driver driver, Target target) {
        Map<String, Object> direct = sameAsDirect(driver, target, "client_encoding");
        assertThat(direct).containsEntry("parameter_status", "UTF8");
    }

    private static Map<String, Object> sameAsDirect(Driver driver, Target target, String testCase) {
        return CASES.sameAsDirect(driver, target, testCase, DriverCases.poolFor(target));
    }
}
