package io.pgwarden.it.drivers;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, item 2, with asyncpg: the same program directly and through pgwarden in transaction mode, across an
 * ALTER TABLE that turns a date column into a time column. Skipped, with the reason printed, where asyncpg cannot
 * be installed ({@link DriverToolchain}).
 */
class StalePreparedStatementsAsyncpgTest {

    private static String program(int port) {
        DriverCases.assumeInstalled(Driver.ASYNCPG);
        DriverToolchain toolchain = DriverToolchain.get();
        DriverToolchain.Result result = DriverToolchain.run(List.of(toolchain.python().toString(),
                toolchain.programs().resolve("asyncpg_date_to_time.py").toString(), String.valueOf(port),
                String.valueOf(TestPostgres.shared().port()), TestPostgres.APP_PASSWORD), 120);
        assertThat(result.exitCode()).as(result.output()).isZero();
        return result.output();
    }

    @Test
    void aStatementPreparedAfterAlterSeesTheNewTypesAndAnOutdatedOneIsPreparedAgainAsDirectly() {
        String directly = program(TestPostgres.shared().port());
        assertThat(directly).contains("B columns [('d', 'time')]", "B params ['time']",
                "A datetime.time(12, 34, 56)");
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1")) {
            assertThat(program(proxy.port())).isEqualTo(directly);
        }
    }
}
