package io.pgwarden.it.drivers;

import static io.pgwarden.it.drivers.DriverCases.assumeInstalled;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 13 items 1 and 8 with the drivers that found them: a Python program (psycopg2, and psycopg 3, from the
 * shared {@link DriverToolchain}) whose transaction is lost, through pgwarden in both modes. Unlike the
 * direct-versus-through cases of {@link LostConnectionDriversTest}, it pins the exact error and three
 * transactions after it. Skipped, with the reason printed, where a driver cannot be installed.
 */
class LostTransactionDriversTest {

    @ParameterizedTest(name = "{0}, {1} mode")
    @CsvSource({"psycopg2, transaction", "psycopg2, session", "psycopg, transaction", "psycopg, session"})
    void aCommitThatFindsItsTransactionLostRaisesOnceAndTheConnectionCarriesOn(String driver, String mode) {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
            assertThat(run(driver, "commit", proxyDsn(proxy))).containsExactly("commit: AdminShutdown 57P01",
                    "next transaction 1: ok", "next transaction 2: ok", "next transaction 3: ok");
        }
    }

    @ParameterizedTest(name = "{0}, {1} mode")
    @CsvSource({"psycopg2, transaction", "psycopg2, session", "psycopg, transaction", "psycopg, session"})
    void aRollbackThatFindsItsTransactionLostSucceedsAndTheConnectionCarriesOn(String driver, String mode) {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
            assertThat(run(driver, "rollback", proxyDsn(proxy))).containsExactly("rollback: ok",
                    "next transaction 1: ok", "next transaction 2: ok", "next transaction 3: ok");
        }
    }

    /** psycopg 3's pipeline mode sends its COMMIT as Parse/Bind/Execute/Sync. */
    @ParameterizedTest(name = "{0} mode")
    @CsvSource({"transaction", "session"})
    void aPipelinedCommitThatFindsItsTransactionLostRaisesOnceAndTheConnectionCarriesOn(String mode) {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode)) {
            assertThat(run("psycopg", "pipeline_commit", proxyDsn(proxy))).containsExactly(
                    "pipeline_commit: AdminShutdown 57P01", "next transaction 1: ok", "next transaction 2: ok",
                    "next transaction 3: ok");
        }
    }

    /**
     * Directly against PostgreSQL psycopg2 (with libpq 14 or later) gets only "server closed the connection
     * unexpectedly" here: libpq reads the FATAL, goes on reading for the ReadyForQuery, and the close's error
     * replaces the FATAL; printed for the record. pgwarden puts a ReadyForQuery behind its own FATAL to an idle
     * client, so the driver raises the real cause.
     */
    @ParameterizedTest(name = "{0}, {1} mode")
    @CsvSource({"psycopg2, transaction", "psycopg2, session", "psycopg, transaction"})
    void pgwardensIdleInTransactionTimeoutRaisesIdleInTransactionSessionTimeout(String driver, String mode) {
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode
                + "\nclient:\n  idle_in_transaction_timeout: 500ms")) {
            assertThat(run(driver, "idle_in_transaction_timeout", proxyDsn(proxy))).as("through pgwarden")
                    .containsExactly("ended by the server side: yes",
                            "next statement: IdleInTransactionSessionTimeout 25P03");
        }
        List<String> direct = run(driver, "idle_in_transaction_timeout", "host=127.0.0.1 port="
                + TestPostgres.shared().port() + " dbname=appdb user=app password=" + TestPostgres.APP_PASSWORD
                + " options='-c idle_in_transaction_session_timeout=500'");
        System.out.println(driver + " directly against PostgreSQL: " + direct);
    }

    private static String proxyDsn(TestProxy proxy) {
        return "host=127.0.0.1 port=" + proxy.port() + " dbname=appdb user=app password=" + TestPostgres.APP_PASSWORD
                + " connect_timeout=10";
    }

    private static List<String> run(String driver, String scenario, String dsn) {
        assumeInstalled("psycopg2".equals(driver) ? Driver.PSYCOPG2 : Driver.PSYCOPG3);
        DriverToolchain toolchain = DriverToolchain.get();
        String admin = "host=127.0.0.1 port=" + TestPostgres.shared().port() + " dbname=postgres user=postgres";
        DriverToolchain.Result result = DriverToolchain.run(List.of(toolchain.python().toString(),
                toolchain.programs().resolve("lost_transaction.py").toString(), driver, scenario, dsn, admin), 120);
        System.out.println(driver + " " + scenario + ":\n" + result.output());
        assertThat(result.exitCode()).as("%s program exit; output:\n%s", driver, result.output()).isZero();
        List<String> lines = new ArrayList<>();
        for (String line : result.output().split("\n")) {
            if (line.contains(": ")) {
                lines.add(line.strip());
            }
        }
        return lines;
    }
}
