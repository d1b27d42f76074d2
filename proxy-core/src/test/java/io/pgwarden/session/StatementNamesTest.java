package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Issue 14, item 3: the proxy-wide statement names stay within their byte bound, evicting only unused ones. */
class StatementNamesTest {

    private static byte[] body(char c) {
        byte[] b = new byte[1000];
        Arrays.fill(b, (byte) c);
        return b;
    }

    @Test
    void releasedStatementsGoFirstAndOnesInUseAreNeverEvicted() {
        StatementNames names = new StatementNames(2048, 2048);
        String a = names.acquire(body('a'));
        assertThat(names.acquire(body('a'))).as("shared by a second user").isEqualTo(a);
        names.release(body('a'));
        names.release(body('a'));
        assertThat(names.acquire(body('a'))).as("kept while room allows").isEqualTo(a);
        names.release(body('a'));

        String b = names.acquire(body('b'));
        String c = names.acquire(body('c'));
        assertThat(b).isNotNull().isNotEqualTo(a);
        assertThat(c).isNotNull();
        assertThat(names.bytes()).as("the unused one made room").isEqualTo(2000);
        assertThat(names.acquire(body('d'))).as("no room without evicting one in use").isNull();

        names.release(body('b'));
        assertThat(names.acquire(body('d'))).isNotNull();
        assertThat(names.bytesInUse()).isEqualTo(2000);
        assertThat(names.acquire(body('a'))).as("evicted earlier: a fresh name").isNotEqualTo(a);
    }
}
