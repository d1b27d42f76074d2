package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 14: a message of hundreds of megabytes is relayed as it arrives, not buffered whole; the proxy's memory
 * stays flat, other clients on the same event loop are served meanwhile, and what pgwarden cannot read of such a
 * statement is assumed to do what would otherwise leak to other clients.
 */
class LargeMessagesStreamTest {

    private static final long BIG = 300L << 20;
    /** What a 300 MB message may add to the proxy's memory (the acceptance criterion). */
    private static final long GROWTH_LIMIT = 64L << 20;
    private static final Duration OTHERS_LATENCY_LIMIT = Duration.ofSeconds(1);
    private static final Duration DEADLINE = Duration.ofMinutes(3);

    /** One event loop, so that the big message and the other client share it. */
    private static TestProxy proxy(String mode, int maxSize) {
        return proxy(mode, maxSize, "");
    }

    private static TestProxy proxy(String mode, int maxSize, String moreDefaults) {
        return proxy(mode, maxSize, moreDefaults, "");
    }

    private static TestProxy proxy(String mode, int maxSize, String moreDefaults, String listenExtra) {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                  worker_threads: 1
                %s
                defaults:
                  pool_mode: %s
                  max_size: %d
                %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  trustuser:
                    password: trust-secret
                    auth: cleartext
                """.formatted(listenExtra.indent(2).stripTrailing(), mode, maxSize,
                moreDefaults.indent(2).stripTrailing());
        return TestProxy.fromYaml(() -> yaml, TestPostgres.shared().port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"transaction", "session"})
    void aThreeHundredMegabyteQueryPassesWithMemoryFlatAndOthersServed(String mode) throws Exception {
        try (TestProxy proxy = proxy(mode, 2);
             RawClient big = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb");
             Connection other = proxy.connect("trustuser", "trust-secret")) {
            selectOne(other);
            Letters text = new Letters(BIG);
            byte[] sqlStart = "select length(t), md5(t) from (select '".getBytes(StandardCharsets.US_ASCII);
            byte[] sqlEnd = "'::text as t) x\0".getBytes(StandardCharsets.US_ASCII);
            MemoryWatch memory = new MemoryWatch();
            CountDownLatch underway = new CountDownLatch(1);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = big.output();
                    header(out, 'Q', sqlStart.length + BIG + sqlEnd.length);
                    out.write(sqlStart);
                    text.writeTo(out, 32L << 20, underway);
                    out.write(sqlEnd);
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(underway.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            long heapMidway = memory.heapAfterGc();
            long slowest = 0;
            int served = 0;
            while (!sent.isDone()) {
                long start = System.nanoTime();
                selectOne(other);
                slowest = Math.max(slowest, System.nanoTime() - start);
                served++;
            }
            sent.get();
            String[] row = dataRow(big.expect('D'));
            big.expect('Z');
            memory.stop();
            System.out.printf("%s mode, %d MB Query: proxy direct memory +%.1f MB (peak), heap +%.1f MB; %d other "
                    + "queries during the transfer, slowest %.1f ms%n", mode, BIG >> 20, memory.directGrowth() / 1e6,
                    (heapMidway - memory.heapBaseline) / 1e6, served, slowest / 1e6);
            assertThat(row[0]).isEqualTo(String.valueOf(BIG));
            assertThat(row[1]).isEqualTo(text.md5());
            assertThat(memory.directGrowth()).as("growth of Netty's used direct memory").isLessThan(GROWTH_LIMIT);
            assertThat(heapMidway - memory.heapBaseline).as("heap growth after GC").isLessThan(GROWTH_LIMIT);
            assertThat(served).as("other client's queries while the message flowed").isPositive();
            assertThat(Duration.ofNanos(slowest)).as("slowest select 1 of another client meanwhile")
                    .isLessThan(OTHERS_LATENCY_LIMIT);
        }
    }

    /** pgjdbc streams a bytea parameter given as a stream with its length: one 300 MB Bind. */
    @ParameterizedTest
    @ValueSource(strings = {"transaction", "session"})
    void aThreeHundredMegabyteBindParameterPasses(String mode) throws Exception {
        Properties props = new Properties();
        // In transaction mode a named statement, whose Bind pgwarden renames; unnamed in session mode.
        props.setProperty("prepareThreshold", mode.equals("transaction") ? "-1" : "5");
        try (TestProxy proxy = proxy(mode, 2);
             Connection c = proxy.connect("appdb", "trustuser", "trust-secret", props)) {
            Letters data = new Letters(BIG);
            MemoryWatch memory = new MemoryWatch();
            try (PreparedStatement ps = c.prepareStatement("select length(b), md5(b) from (select ?::bytea b) x")) {
                ps.setBinaryStream(1, data.stream(), (int) BIG);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(BIG);
                    assertThat(rs.getString(2)).isEqualTo(data.md5());
                }
            }
            memory.stop();
            System.out.printf("%s mode, %d MB Bind: proxy direct memory +%.1f MB (peak)%n", mode, BIG >> 20,
                    memory.directGrowth() / 1e6);
            assertThat(memory.directGrowth()).as("growth of Netty's used direct memory").isLessThan(GROWTH_LIMIT);
            // The session goes on as normal after it.
            selectOne(c);
        }
    }

    @Test
    void aHundredMegabyteCopyRowPasses() throws Exception {
        long size = 100L << 20;
        try (TestProxy proxy = proxy("transaction", 2);
             RawClient client = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb")) {
            client.query("DROP TABLE IF EXISTS stream_copy; CREATE TABLE stream_copy (t text)");
            client.expect('Z');
            client.query("COPY stream_copy FROM STDIN");
            client.expect('G');
            Letters row = new Letters(size);
            MemoryWatch memory = new MemoryWatch();
            OutputStream out = client.output();
            header(out, 'd', size + 1);
            row.writeTo(out, 0, null);
            out.write('\n');
            out.write(new byte[] {'c', 0, 0, 0, 4});
            out.flush();
            assertThat(new String(client.expect('C'), StandardCharsets.US_ASCII)).startsWith("COPY 1");
            client.expect('Z');
            memory.stop();
            client.query("SELECT length(t), md5(t) FROM stream_copy");
            String[] result = dataRow(client.expect('D'));
            client.expect('Z');
            client.query("DROP TABLE stream_copy");
            client.expect('Z');
            assertThat(result[0]).isEqualTo(String.valueOf(size));
            assertThat(result[1]).isEqualTo(row.md5());
            assertThat(memory.directGrowth()).as("growth of Netty's used direct memory").isLessThan(GROWTH_LIMIT);
        }
    }

    /** With no backend free, the head waits in the queue and reading stops; the message goes once one is. */
    @Test
    void aLargeQueryWaitingForABackendIsHeldBackThenRelayedWhole() throws Exception {
        long size = 50L << 20;
        try (TestProxy proxy = proxy("transaction", 1);
             Connection holder = proxy.connect("trustuser", "trust-secret");
             RawClient waiting = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb")) {
            holder.setAutoCommit(false);
            selectOne(holder);
            Letters text = new Letters(size);
            MemoryWatch memory = new MemoryWatch();
            CompletableFuture<Void> sent = sendQuery(waiting, text);
            await().atMost(DEADLINE).until(() -> proxy.application().context().sessions().all().stream()
                    .anyMatch(c -> c.state() == io.pgwarden.session.ClientState.WAITING));
            holder.commit();
            sent.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            String[] row = dataRow(waiting.expect('D'));
            waiting.expect('Z');
            memory.stop();
            assertThat(row).containsExactly(String.valueOf(size), text.md5());
            assertThat(memory.directGrowth()).as("growth of Netty's used direct memory").isLessThan(GROWTH_LIMIT);
        }
    }

    /** No backend came in time: the head is answered without one, the rest of the message is read and dropped. */
    @Test
    void aLargeQueryThatGetsNoBackendIsAnsweredAndItsRestDropped() throws Exception {
        try (TestProxy proxy = proxy("transaction", 1, "query_wait_timeout: 1s");
             Connection holder = proxy.connect("trustuser", "trust-secret");
             RawClient waiting = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb")) {
            holder.setAutoCommit(false);
            selectOne(holder);
            CompletableFuture<Void> sent = sendQuery(waiting, new Letters(20L << 20));
            String error = new String(waiting.expectAny('E'), StandardCharsets.UTF_8);
            waiting.expect('Z');
            sent.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertThat(error).contains("query_wait_timeout");
            holder.commit();
            waiting.query("SELECT 'after'");
            assertThat(dataRow(waiting.expect('D'))).containsExactly("after");
            waiting.expect('Z');
        }
    }

    /** A 300 MB DataRow or CopyData from the server reaches the client as it arrives, too. */
    @ParameterizedTest
    @ValueSource(strings = {"SELECT repeat('abcdefghij', %d)", "COPY (SELECT repeat('abcdefghij', %d)) TO STDOUT"})
    void aThreeHundredMegabyteRowFromTheServerPassesWithMemoryFlat(String sql) throws Exception {
        long size = BIG;
        try (TestProxy proxy = proxy("transaction", 2);
             RawClient client = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb");
             Connection other = proxy.connect("trustuser", "trust-secret")) {
            MemoryWatch memory = new MemoryWatch();
            client.query(sql.formatted(size / 10));
            boolean copy = sql.startsWith("COPY");
            java.io.DataInputStream in = client.input();
            char type;
            while ((type = (char) in.readByte()) != (copy ? 'd' : 'D')) {
                in.readNBytes(in.readInt() - 4);
            }
            long length = in.readInt() - 4L;
            if (!copy) {
                assertThat(in.readShort()).isEqualTo((short) 1);
                assertThat(in.readInt()).isEqualTo((int) size);
                length -= 6;
            }
            byte[] buffer = new byte[64 * 1024];
            long read = 0;
            long misplaced = 0;
            while (read < size) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, size - read));
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != 'a' + (read + i) % 10) {
                        misplaced++;
                    }
                }
                read += n;
            }
            in.readNBytes((int) (length - size));
            client.expect('Z');
            selectOne(other);
            memory.stop();
            System.out.printf("%d MB %s from the server: proxy direct memory +%.1f MB (peak)%n", size >> 20,
                    copy ? "CopyData" : "DataRow", memory.directGrowth() / 1e6);
            assertThat(misplaced).as("bytes out of place").isZero();
            assertThat(memory.directGrowth()).as("growth of Netty's used direct memory").isLessThan(GROWTH_LIMIT);
        }
    }

    /** The backend dies mid-message: the client gets the error a lost request gets, the rest is dropped. */
    @Test
    void aBackendLostMidMessageAnswersTheClientAndDropsTheRest() throws Exception {
        try (TestProxy proxy = proxy("transaction", 2);
             RawClient client = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb")) {
            client.query("SELECT pg_backend_pid()");
            String pid = dataRow(client.expect('D'))[0];
            client.expect('Z');
            Letters text = new Letters(BIG);
            CountDownLatch underway = new CountDownLatch(1);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.output();
                    header(out, 'Q', 20 + BIG);
                    out.write("select length('".getBytes(StandardCharsets.US_ASCII));
                    text.writeTo(out, 32L << 20, underway);
                    out.write("')  \0".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(underway.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            try (Connection su = TestPostgres.shared().superuser(); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            String error = new String(client.expectAny('E'), StandardCharsets.UTF_8);
            client.expect('Z');
            sent.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertThat(error).contains("57P01");
            client.query("SELECT 'after', pg_backend_pid() <> " + pid);
            assertThat(dataRow(client.expect('D'))).containsExactly("after", "t");
            client.expect('Z');
        }
    }

    /**
     * PostgreSQL fails a COPY on an early row and answers while a large row is still arriving: the backend has
     * part of a message, so it is closed rather than given to the next client, whose bytes it would swallow.
     */
    @Test
    void aCopyThatFailsWhileALargeRowArrivesDoesNotHandOnItsBackend() throws Exception {
        try (TestProxy proxy = proxy("transaction", 1);
             RawClient client = new RawClient(proxy.port(), 0, (int) DEADLINE.toMillis(), "trust-secret",
                     "user", "trustuser", "database", "appdb")) {
            client.query("DROP TABLE IF EXISTS stream_bad; CREATE TABLE stream_bad (x int)");
            client.expect('Z');
            client.query("COPY stream_bad FROM STDIN");
            client.expect('G');
            client.copyData("not a number\n".getBytes(StandardCharsets.US_ASCII));
            long size = 100L << 20;
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.output();
                    header(out, 'd', size + 1);
                    new Letters(size).writeTo(out, 0, null);
                    out.write('\n');
                    out.write(new byte[] {'c', 0, 0, 0, 4});
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            String error = new String(client.expectAny('E'), StandardCharsets.UTF_8);
            client.expect('Z');
            assertThat(error).contains("22P02");
            try (Connection next = proxy.connect("trustuser", "trust-secret");
                 Statement s = next.createStatement()) {
                s.setQueryTimeout(30);
                try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                }
                sent.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                s.execute("DROP TABLE stream_bad");
            }
        }
    }

    /** Sends {@code select length(t), md5(t) from (select '<text>'::text as t) x} from another thread. */
    private static CompletableFuture<Void> sendQuery(RawClient client, Letters text) {
        byte[] start = "select length(t), md5(t) from (select '".getBytes(StandardCharsets.US_ASCII);
        byte[] end = "'::text as t) x\0".getBytes(StandardCharsets.US_ASCII);
        return CompletableFuture.runAsync(() -> {
            try {
                OutputStream out = client.output();
                header(out, 'Q', start.length + text.size + end.length);
                out.write(start);
                text.writeTo(out, 0, null);
                out.write(end);
                out.flush();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    /**
     * Its backend has the start of a message and waits for the rest: given to anyone, it would read that client's
     * bytes as the rest of this message. It is closed, and the next client gets a new one. On every transport: on
     * io_uring the leaving client's FIN came while a read was under way, and with Netty's multishot poll it went
     * unnoticed until query_wait_timeout had failed the next client.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void aClientThatLeavesMidMessageLeavesNothingBehindAndItsBackendIsNotReused(String transport) throws Exception {
        Transports.assumeLoads(transport);
        try (TestProxy proxy = proxy("transaction", 1, "", "transport: " + transport)) {
            long baseline = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            String firstPid;
            try (RawClient leaving = new RawClient(proxy.port())) {
                leaving.query("SELECT pg_backend_pid()");
                firstPid = dataRow(leaving.expect('D'))[0];
                leaving.expect('Z');
                OutputStream out = leaving.output();
                header(out, 'Q', BIG + 20);
                out.write("select length('".getBytes(StandardCharsets.US_ASCII));
                // Beyond what the sockets' buffers hold: the proxy has read and relayed part of it.
                new Letters(32L << 20).writeTo(out, 0, null);
                out.flush();
            }
            try (Connection next = proxy.connect("trustuser", "trust-secret");
                 Statement s = next.createStatement()) {
                s.setQueryTimeout(30);
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), 41 + 1")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).as("backend of the next client").isNotEqualTo(firstPid);
                    assertThat(rs.getInt(2)).isEqualTo(42);
                }
            }
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - baseline)
                            .isLessThan(GROWTH_LIMIT));
        }
    }

    /**
     * A SET past the prefix pgwarden reads of a large Query is not seen; the client is pinned instead, so its
     * settings stay on its own backend and the next client of the pool gets a clean one.
     */
    @Test
    void aSetHiddenPastThePrefixOfALargeQueryDoesNotReachAnotherClient() throws Exception {
        try (TestProxy proxy = proxy("transaction", 2);
             RawClient hiding = new RawClient(proxy.port())) {
            long padding = 2L << 20;
            byte[] start = "select length('".getBytes(StandardCharsets.US_ASCII);
            byte[] end = "'); set statement_timeout = '4321s'; set myapp.hidden = 'leaked'\0"
                    .getBytes(StandardCharsets.US_ASCII);
            OutputStream out = hiding.output();
            header(out, 'Q', start.length + padding + end.length);
            out.write(start);
            new Letters(padding).writeTo(out, 0, null);
            out.write(end);
            out.flush();
            assertThat(dataRow(hiding.expect('D'))[0]).isEqualTo(String.valueOf(padding));
            hiding.expect('Z');
            hiding.query("SELECT current_setting('statement_timeout'), current_setting('myapp.hidden', true)");
            String[] own = dataRow(hiding.expect('D'));
            hiding.expect('Z');
            assertThat(own).containsExactly("4321s", "leaked");
            try (Connection other = proxy.connect("trustuser", "trust-secret");
                 Statement s = other.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('statement_timeout'), "
                         + "current_setting('myapp.hidden', true)")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).as("another client's statement_timeout").isEqualTo("0");
                // Null, or empty where a backend had it set and reset: never the hidden value.
                assertThat(rs.getString(2)).as("another client's myapp.hidden").isIn(null, "");
            }
        }
    }

    /**
     * Session mode: what the unread rest of a large statement created cannot be rebuilt on a new backend, so a
     * lost backend ends the session with a FATAL that says why, rather than continuing without it.
     */
    @Test
    void aSessionThatSentALargeStatementIsNotSilentlyRebuiltAfterALoss() throws Exception {
        try (TestProxy proxy = proxy("session", 2);
             RawClient client = new RawClient(proxy.port())) {
            long padding = 2L << 20;
            byte[] start = "select length('".getBytes(StandardCharsets.US_ASCII);
            byte[] end = "'), pg_backend_pid(); create temp table hidden_temp (x int)\0"
                    .getBytes(StandardCharsets.US_ASCII);
            OutputStream out = client.output();
            header(out, 'Q', start.length + padding + end.length);
            out.write(start);
            new Letters(padding).writeTo(out, 0, null);
            out.write(end);
            out.flush();
            String pid = dataRow(client.expect('D'))[1];
            client.expect('Z');
            try (Connection su = TestPostgres.shared().superuser(); Statement s = su.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            String fatal = new String(client.expectAny('E'), StandardCharsets.UTF_8);
            assertThat(fatal).contains("FATAL").contains("cannot be restored")
                    .contains("a statement longer than 1 MiB");
            assertThat(client.drainToEnd()).isTrue();
        }
    }

    private static void selectOne(Connection c) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    private static void header(OutputStream out, char type, long bodyLength) throws IOException {
        out.write(ByteBuffer.allocate(5).put((byte) type).putInt((int) (4 + bodyLength)).array());
    }

    /** A DataRow's columns as text (nulls as null). */
    private static String[] dataRow(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        String[] columns = new String[b.getShort()];
        for (int i = 0; i < columns.length; i++) {
            int length = b.getInt();
            if (length >= 0) {
                byte[] value = new byte[length];
                b.get(value);
                columns[i] = new String(value, StandardCharsets.UTF_8);
            }
        }
        return columns;
    }

    /** {@code size} bytes of lower-case letters in a pattern that shows any byte lost or moved; never held whole. */
    private static final class Letters {
        private static final byte[] PATTERN = new byte[64 * 1024 + 7];

        static {
            for (int i = 0; i < PATTERN.length; i++) {
                PATTERN[i] = (byte) ('a' + (i * 7 + i / 26) % 26);
            }
        }

        final long size;

        Letters(long size) {
            this.size = size;
        }

        /** Writes them all; {@code reached} counts down once {@code after} bytes are written. */
        void writeTo(OutputStream out, long after, CountDownLatch reached) throws IOException {
            long written = 0;
            while (written < size) {
                int n = (int) Math.min(PATTERN.length, size - written);
                out.write(PATTERN, 0, n);
                written += n;
                if (reached != null && written >= after) {
                    reached.countDown();
                }
            }
        }

        InputStream stream() {
            return new InputStream() {
                private long read;

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0];
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (read >= size) {
                        return -1;
                    }
                    int at = (int) (read % PATTERN.length);
                    int n = (int) Math.min(Math.min(len, PATTERN.length - at), size - read);
                    System.arraycopy(PATTERN, at, b, off, n);
                    read += n;
                    return n;
                }
            };
        }

        String md5() throws Exception {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            long done = 0;
            while (done < size) {
                int n = (int) Math.min(PATTERN.length, size - done);
                md5.update(PATTERN, 0, n);
                done += n;
            }
            return HexFormat.of().formatHex(md5.digest());
        }
    }

    /** The proxy runs in this JVM: Netty's pooled direct memory is what it buffers, sampled every millisecond. */
    private static final class MemoryWatch {
        private final PooledByteBufAllocator pooled = PooledByteBufAllocator.DEFAULT;
        private final long directBaseline = pooled.metric().usedDirectMemory();
        final long heapBaseline = heapAfterGc();
        private final AtomicLong directPeak = new AtomicLong(directBaseline);
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "memory-watch");
            t.setDaemon(true);
            return t;
        });

        MemoryWatch() {
            timer.scheduleAtFixedRate(() -> directPeak.accumulateAndGet(pooled.metric().usedDirectMemory(),
                    Math::max), 0, 1, TimeUnit.MILLISECONDS);
        }

        long heapAfterGc() {
            System.gc();
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        void stop() throws InterruptedException {
            timer.shutdownNow();
            timer.awaitTermination(10, TimeUnit.SECONDS);
            directPeak.accumulateAndGet(pooled.metric().usedDirectMemory(), Math::max);
        }

        long directGrowth() {
            return directPeak.get() - directBaseline;
        }
    }
}
