package io.pgwarden.it.drivers;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.it.TestPostgres;
import io.pgwarden.it.TestProxy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 item 11 with psycopg2, the driver of the application the project started from: a listener idle in
 * autocommit, polling with {@code conn.poll()} as psycopg2's documentation shows, gets notifications sent while
 * it sits between transactions in transaction mode, from a client directly and from one through pgwarden.
 * Skipped, with the reason printed, when psycopg2 cannot be installed ({@link DriverToolchain}).
 */
class ListenNotifyPsycopg2Test {

    private static final String LISTENER = """
            import select, sys, psycopg2
            conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), dbname='appdb', user='app',
                                    password=sys.argv[2])
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute('LISTEN py_channel')
            cur.execute('SELECT 1')
            print('ready', flush=True)
            got = []
            while len(got) < 2:
                if select.select([conn], [], [], 20) == ([], [], []):
                    print('timeout', flush=True)
                    sys.exit(2)
                conn.poll()
                while conn.notifies:
                    n = conn.notifies.pop(0)
                    got.append(n.payload)
                    print('notify %s %s' % (n.channel, n.payload), flush=True)
                    # A transaction between the two: the listener keeps listening.
                    cur.execute('SELECT 2')
            """;

    @Test
    void psycopg2ListenerReceivesNotificationsBetweenTransactions() throws Exception {
        DriverCases.assumeInstalled(Driver.PSYCOPG2);
        Path python = DriverToolchain.get().python();
        Path script = Files.writeString(Files.createTempFile("listen", ".py"), LISTENER);
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
             Connection direct = DriverManager.getConnection(TestPostgres.shared().directUrl("appdb"), "app",
                     TestPostgres.APP_PASSWORD)) {
            Process p = new ProcessBuilder(python.toString(), script.toString(), String.valueOf(proxy.port()),
                    TestPostgres.APP_PASSWORD).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                assertThat(out.readLine()).isEqualTo("ready");
                try (Statement s = direct.createStatement()) {
                    s.execute("NOTIFY py_channel, 'first'");
                }
                assertThat(out.readLine()).isEqualTo("notify py_channel first");
                try (Statement s = proxy.connect().createStatement()) {
                    s.execute("NOTIFY py_channel, 'second'");
                    s.getConnection().close();
                }
                assertThat(out.readLine()).isEqualTo("notify py_channel second");
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).isZero();
            } finally {
                p.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
