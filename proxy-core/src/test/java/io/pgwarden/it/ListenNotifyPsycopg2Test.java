package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 item 11 with psycopg2, the driver of the application the project started from: a listener idle in
 * autocommit, polling with {@code conn.poll()} as psycopg2's documentation shows, gets notifications sent while
 * it sits between transactions in transaction mode. Skipped, with the reason printed, when the wheel cannot be
 * installed.
 */
class ListenNotifyPsycopg2Test {

    private static final Path VENV = Path.of("target", "psycopg2-venv");
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
        Path python = venvPython();
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

    /** The venv's python with psycopg2 installed from the local wheelhouse, or the test is skipped. */
    private static Path venvPython() throws IOException, InterruptedException {
        Path python = VENV.resolve("bin").resolve("python");
        if (!Files.isExecutable(python) || run(List.of(python.toString(), "-c", "import psycopg2")) != 0) {
            int made = run(List.of("python3", "-m", "venv", VENV.toString()));
            int installed = made != 0 ? made : run(List.of(python.toString(), "-m", "pip", "install", "-q",
                    "--no-index", "--find-links", "/opt/pypi/files", "psycopg2-binary"));
            if (installed != 0) {
                System.out.println("ListenNotifyPsycopg2Test skipped: could not install psycopg2-binary from "
                        + "/opt/pypi/files into " + VENV.toAbsolutePath());
            }
            assumeTrue(installed == 0, "psycopg2-binary could not be installed from /opt/pypi/files");
        }
        return python;
    }

    private static int run(List<String> command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                    .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "pgwarden-venv.log")).start();
        } catch (IOException e) {
            return -1;
        }
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
