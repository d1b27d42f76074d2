package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 14, item 3: the proxy-wide statement names stay within their byte bound, evicting only unused ones. */
class StatementNamesTest {

    private static final long ENTRY = 1000 + StatementNames.OVERHEAD;

    private static byte[] body(char c) {
        byte[] b = new byte[1000];
        Arrays.fill(b, (byte) c);
        return b;
    }

    @Test
    void releasedStatementsGoFirstAndOnesInUseAreNeverEvicted() {
        StatementNames names = new StatementNames(8 * ENTRY, 8 * ENTRY);
        StatementNames.Shared a = names.acquire(body('a'));
        StatementNames.Shared again = names.acquire(body('a'));
        assertThat(again).as("shared by a second user").isSameAs(a);
        names.release(a);
        names.release(again);
        assertThat(names.acquire(body('a')).name()).as("kept while room allows").isEqualTo(a.name());
        names.release(a);

        List<StatementNames.Shared> held = new ArrayList<>();
        for (char c = 'b'; c < 'b' + 8; c++) {
            StatementNames.Shared s = names.acquire(body(c));
            assertThat(s).as("room made by evicting the unused one").isNotNull();
            held.add(s);
        }
        assertThat(names.bytes()).isEqualTo(8 * ENTRY);
        assertThat(names.acquire(body('z'))).as("no room without evicting one in use").isNull();

        names.release(held.get(0));
        StatementNames.Shared z = names.acquire(body('z'));
        assertThat(z).isNotNull();
        assertThat(names.bytesInUse()).isEqualTo(8 * ENTRY);
        names.release(z);
        held.subList(1, held.size()).forEach(names::release);
        assertThat(names.acquire(body('a')).name()).as("evicted earlier: a fresh name").isNotEqualTo(a.name());
    }

    @Test
    void whatClientsLeaveBehindIsKeptOnlyUpToAQuarterOfTheBound() {
        StatementNames names = new StatementNames(8 * ENTRY, 8 * ENTRY);
        List<StatementNames.Shared> held = new ArrayList<>();
        for (char c = 'a'; c < 'a' + 8; c++) {
            held.add(names.acquire(body(c)));
        }
        held.forEach(names::release);

        assertThat(names.bytesInUse()).isZero();
        assertThat(names.bytes()).isEqualTo(2 * ENTRY);
        assertThat(names.size()).isEqualTo(2);
        assertThat(names.acquire(body('h')).name()).as("the most recently released stay").isEqualTo(held.get(7).name());
    }

    @Test
    void clientsPreparingTheSameTextShareOneCopyOfIt() {
        StatementNames names = new StatementNames(1 << 20, 1 << 20);
        StatementNames.Shared first = names.acquire(body('a'));
        StatementNames.Shared second = names.acquire(body('a'));
        assertThat(second.body()).isSameAs(first.body());
        assertThat(names.bytes()).isEqualTo(ENTRY);
    }

    @Test
    void manyEventLoopsAcquiringAndReleasingLeaveNothingInUse() throws Exception {
        StatementNames names = new StatementNames(64 * ENTRY, 64 * ENTRY);
        ExecutorService loops = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            done.add(loops.submit(() -> {
                start.await();
                for (int i = 0; i < 20_000; i++) {
                    StatementNames.Shared s = names.acquire(body((char) ('a' + (i + thread) % 40)));
                    if (s != null) {
                        names.release(s);
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        loops.shutdown();
        assertThat(names.bytesInUse()).isZero();
        assertThat(names.bytes()).isLessThanOrEqualTo(16 * ENTRY);
    }
}
