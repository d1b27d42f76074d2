package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
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
    /** 10-15 s alone, a few times that on a loaded machine: far beyond it, the relay has stalled. */
    private static final Duration COPY_DEADLINE = Duration.ofMinutes(4);

    @Test
    void twoHundredMegabytesCopyInAndOutWithTheProxysBuffersBounded() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 2");
             Connection c = proxy.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS copy_big");
                s.execute("CREATE UNLOGGED TABLE copy_big (id bigint, payload text)");
            }
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            GeneratedRows rows = new GeneratedRows(COPY_BYTES);
            CountingStream counted = new CountingStream();
            long[] rowsInOut = new long[2];
            BufferWatcher watcher = new BufferWatcher();
            watcher.start();
            try {
                // A stalled relay blocks the driver in a socket write no interrupt ends; abort() closes that socket.
                withinOrAbort(c, COPY_DEADLINE, () -> {
                    rowsInOut[0] = copy.copyIn("COPY copy_big FROM STDIN", rows);
                    rowsInOut[1] = copy.copyOut("COPY copy_big TO STDOUT", counted);
                }, () -> String.format("COPY of %d MB in and out did not finish within %s: the client had handed"
                        + " %d MB to the driver and read %d MB back (a stalled relay, or a machine many times slower than usual)",
                        COPY_BYTES >> 20, COPY_DEADLINE, rows.produced() >> 20, counted.bytes.get() >> 20));
            } finally {
                watcher.stop();
            }

            assertThat(rowsInOut[1]).isEqualTo(rowsInOut[0]);
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

    /** Runs {@code work}; past the deadline, aborts the connection (so the work ends) and fails with the message. */
    private static void withinOrAbort(Connection c, Duration deadline, Work work, Supplier<String> message)
            throws Exception {
        ExecutorService runner = Executors.newSingleThreadExecutor();
        try {
            Future<?> done = runner.submit(() -> {
                work.run();
                return null;
            });
            try {
                done.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException stalled) {
                String why = message.get();
                c.abort(Runnable::run);
                fail(why);
            } catch (ExecutionException failed) {
                throw failed.getCause() instanceof Exception e ? e : failed;
            }
        } finally {
            runner.shutdownNow();
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
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

    /**
     * Its last CopyData and its FIN arrive together: on io_uring with Netty's multishot poll that close went
     * unnoticed, the backend stayed in COPY holding its lock, and the next client waited for it in vain.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void aClientThatVanishesMidCopyLeavesNoHalfCopiedRows(String transport) throws Exception {
        Transports.assumeLoads(transport);
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction\nmax_size: 1", "transport: " + transport)) {
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

    /**
     * Rows generated on the fly, so the test itself holds no 200 MB either. Each read fills the driver's whole
     * buffer, as a file would: one row per read made a CopyData message of every ~100-byte row (two million of
     * them), which under paranoid leak detection took the proxy's loop a minute of CPU, and many minutes on a
     * loaded machine.
     */
    private static final class GeneratedRows extends InputStream {
        private static final byte[] PAYLOAD = "x".repeat(90).getBytes(StandardCharsets.US_ASCII);
        private final long limit;
        private volatile long produced;
        private long id;
        private byte[] row = new byte[0];
        private int position;

        GeneratedRows(long limit) {
            this.limit = limit;
        }

        long produced() {
            return produced;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            int filled = 0;
            while (filled < length) {
                if (position == row.length) {
                    if (produced >= limit) {
                        break;
                    }
                    nextRow();
                }
                int n = Math.min(length - filled, row.length - position);
                System.arraycopy(row, position, buffer, offset + filled, n);
                position += n;
                filled += n;
                produced += n;
            }
            return filled == 0 && length > 0 ? -1 : filled;
        }

        private void nextRow() {
            byte[] prefix = (++id + "\t").getBytes(StandardCharsets.US_ASCII);
            row = new byte[prefix.length + PAYLOAD.length + 1];
            System.arraycopy(prefix, 0, row, 0, prefix.length);
            System.arraycopy(PAYLOAD, 0, row, prefix.length, PAYLOAD.length);
            row[row.length - 1] = '\n';
            position = 0;
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

    /**
     * Samples, every millisecond, the memory the proxy's allocator (pooled, see {@code Transport}) has pinned
     * under live buffers. A timer, not a spin: a spinning sampler took a core's share from the proxy's loop.
     */
    private static final class BufferWatcher {
        final AtomicLong peak = new AtomicLong();
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buffer-watcher");
            t.setDaemon(true);
            return t;
        });

        void start() {
            PooledByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
            timer.scheduleAtFixedRate(() -> peak.accumulateAndGet(
                    pooled.pinnedDirectMemory() + pooled.pinnedHeapMemory(), Math::max), 0, 1, TimeUnit.MILLISECONDS);
        }

        void stop() throws InterruptedException {
            timer.shutdownNow();
            timer.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

}
