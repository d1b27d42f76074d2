package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/** Issue 3: COPY and large results stream through; the proxy never holds more than a window of them. */
class CopyAndLargeResultsTest {

    private static final long COPY_BYTES = 200L * 1024 * 1024;
    /** The proxy relays through Netty's buffers only; this is the most they may hold at once during the copies. */
    private static final long PROXY_BUFFER_LIMIT = 32L * 1024 * 1024;

    @Test
    void twoHundredMegabytesCopyInAndOutWithTheProxysBuffersBounded() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
             Connection c = proxy.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS copy_big");
                s.execute("CREATE UNLOGGED TABLE copy_big (id bigint, payload text)");
            }
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            BufferWatcher watcher = new BufferWatcher();
            watcher.start();
            long rowsIn = copy.copyIn("COPY copy_big FROM STDIN", new GeneratedRows(COPY_BYTES));
            CountingStream counted = new CountingStream();
            long rowsOut = copy.copyOut("COPY copy_big TO STDOUT", counted);
            watcher.stop();

            assertThat(rowsOut).isEqualTo(rowsIn);
            assertThat(counted.bytes.get()).isGreaterThanOrEqualTo(COPY_BYTES);
            System.out.printf("COPY %d MB in and out: peak %.1f MB in the proxy's buffers%n", COPY_BYTES >> 20,
                    watcher.peak.get() / 1048576.0);
            assertThat(watcher.peak.get()).as("peak bytes held in the proxy's buffers")
                    .isLessThan(PROXY_BUFFER_LIMIT);
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE copy_big");
            }
        }
    }

    @Test
    void aSlowReaderPausesItsBackendInsteadOfFillingTheProxyAndOthersAreStillServed() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
             Connection other = proxy.connect()) {
            BufferWatcher watcher = new BufferWatcher();
            try (RawClient slow = new RawClient(proxy.port())) {
                // About 2 GB of rows that the client never reads.
                slow.query("SELECT repeat('x', 1000) FROM generate_series(1, 2000000)");
                slow.readSome(1);
                watcher.start();
                long watchUntil = System.nanoTime() + 2_000_000_000L;
                for (int i = 0; i < 200 || System.nanoTime() < watchUntil; i++) {
                    try (Statement s = other.createStatement(); ResultSet rs = s.executeQuery("SELECT " + i)) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(i);
                    }
                }
                watcher.stop();
            }
            assertThat(watcher.peak.get()).as("bytes held in the proxy while the reader stalls")
                    .isLessThan(PROXY_BUFFER_LIMIT);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void copyFailAndBadRowsEndTheCopyCleanlyAndTheConnectionGoesOn(String mode) throws Exception {
        String table = "copy_err_" + mode;
        try (TestProxy proxy = TestProxy.start("pool_mode: " + mode + "\nmax_size: 1");
             Connection c = proxy.connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + table);
            s.execute("CREATE TABLE " + table + " (id int)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();

            CopyIn in = copy.copyIn("COPY " + table + " FROM STDIN");
            byte[] rows = "1\n2\n".getBytes(StandardCharsets.UTF_8);
            in.writeToCopy(rows, 0, rows.length);
            in.cancelCopy();

            assertThatThrownBy(() -> copy.copyIn("COPY " + table + " FROM STDIN",
                    new java.io.ByteArrayInputStream("3\nnot-a-number\n".getBytes(StandardCharsets.UTF_8))))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22P02"));

            assertThat(copy.copyIn("COPY " + table + " FROM STDIN",
                    new java.io.ByteArrayInputStream("4\n5\n".getBytes(StandardCharsets.UTF_8)))).isEqualTo(2);
            try (ResultSet rs = s.executeQuery("SELECT string_agg(id::text, ',' ORDER BY id) FROM " + table)) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("4,5");
            }
            s.execute("DROP TABLE " + table);
        }
    }

    @Test
    void aClientThatVanishesMidResultLeavesNoHalfReadBackend() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1")) {
            try (RawClient raw = new RawClient(proxy.port())) {
                raw.query("SELECT repeat('x', 1000) FROM generate_series(1, 1000000)");
                raw.readSome(100_000);
            }
            assertNextClientGetsACleanBackend(proxy);
        }
    }

    @Test
    void aClientThatVanishesMidCopyLeavesNoHalfCopiedRows() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1")) {
            try (Connection c = proxy.connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS copy_vanish");
                s.execute("CREATE TABLE copy_vanish (id int)");
                s.execute("GRANT ALL ON copy_vanish TO trustuser");
            }
            try (RawClient raw = new RawClient(proxy.port())) {
                raw.query("COPY copy_vanish FROM STDIN");
                raw.expect('G');
                raw.copyData("1\n2\n3\n".getBytes(StandardCharsets.UTF_8));
            }
            assertNextClientGetsACleanBackend(proxy);
            try (Connection c = proxy.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM copy_vanish")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
                s.execute("DROP TABLE copy_vanish");
            }
        }
    }

    private static void assertNextClientGetsACleanBackend(TestProxy proxy) throws SQLException {
        // Simple protocol: there a statement outside any transaction starts its own, so now() equals its start.
        java.util.Properties simple = new java.util.Properties();
        simple.setProperty("preferQueryMode", "simple");
        try (Connection next = proxy.connect("appdb", "app", TestPostgres.APP_PASSWORD, simple);
             Statement s = next.createStatement()) {
            s.setQueryTimeout(10);
            try (ResultSet rs = s.executeQuery("SELECT 42, now() = statement_timestamp()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
                assertThat(rs.getBoolean(2)).as("not inside a leftover transaction").isTrue();
            }
        }
    }

    /** Rows generated on the fly, so the test itself holds no 200 MB either. */
    private static final class GeneratedRows extends InputStream {
        private static final byte[] PAYLOAD = "x".repeat(90).getBytes(StandardCharsets.US_ASCII);
        private final long limit;
        private long produced;
        private long id;
        private byte[] row = new byte[0];
        private int position;

        GeneratedRows(long limit) {
            this.limit = limit;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (position == row.length) {
                if (produced >= limit) {
                    return -1;
                }
                byte[] prefix = (++id + "\t").getBytes(StandardCharsets.US_ASCII);
                row = new byte[prefix.length + PAYLOAD.length + 1];
                System.arraycopy(prefix, 0, row, 0, prefix.length);
                System.arraycopy(PAYLOAD, 0, row, prefix.length, PAYLOAD.length);
                row[row.length - 1] = '\n';
                position = 0;
            }
            int n = Math.min(length, row.length - position);
            System.arraycopy(row, position, buffer, offset, n);
            position += n;
            produced += n;
            return n;
        }
    }

    private static final class CountingStream extends OutputStream {
        final AtomicLong bytes = new AtomicLong();

        @Override
        public void write(int b) {
            bytes.incrementAndGet();
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes.addAndGet(len);
        }
    }

    /** Samples how much memory Netty's allocator (the proxy's only buffers) has handed out. */
    private static final class BufferWatcher {
        final AtomicLong peak = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private Thread thread;

        void start() {
            ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
            thread = new Thread(() -> {
                while (running.get()) {
                    peak.accumulateAndGet(metric.usedDirectMemory() + metric.usedHeapMemory(), Math::max);
                    Thread.onSpinWait();
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

}
