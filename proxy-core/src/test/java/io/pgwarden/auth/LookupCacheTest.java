package io.pgwarden.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.AuthMethod;
import io.pgwarden.config.UserConfig;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The lookup cache stays within its bounds whatever names clients send. */
class LookupCacheTest {

    @Test
    void theLeastRecentlyUsedAnswersGoFirstBeyondTheEntryBound() {
        LookupCache cache = new LookupCache(3, Long.MAX_VALUE);
        for (String name : new String[] {"a", "b", "c"}) {
            cache.put(LookupCache.key("db", name), LookupOutcome.none("not found"), 0);
        }
        cache.get(LookupCache.key("db", "a"));
        cache.put(LookupCache.key("db", "d"), LookupOutcome.none("not found"), 0);
        assertThat(cache.size()).isEqualTo(3);
        assertThat(cache.get(LookupCache.key("db", "b"))).isNull();
        assertThat(cache.get(LookupCache.key("db", "a"))).isNotNull();
    }

    @Test
    void longMadeUpNamesAreBoundByWeight() {
        LookupCache cache = new LookupCache(1_000_000, 100_000);
        String longName = "x".repeat(5_000);
        for (int i = 0; i < 1_000; i++) {
            cache.put(LookupCache.key("db", longName + i), LookupOutcome.none("not found"), 0);
        }
        assertThat(cache.weight()).isLessThanOrEqualTo(100_000);
        assertThat(cache.size()).isBetween(1, 20);
        UserConfig alice = new UserConfig("alice", "SCRAM-SHA-256$4096:c2FsdA==$a:b", AuthMethod.SCRAM_SHA_256);
        cache.put(LookupCache.key("db", "alice"), LookupOutcome.found(alice), 0);
        assertThat(cache.get(LookupCache.key("db", "alice")).outcome().user()).isEqualTo(alice);
    }

    @Test
    void aLookupUnderWayIsSharedUntilItFinishes() {
        LookupCache cache = new LookupCache();
        CompletableFuture<LookupOutcome> first = new CompletableFuture<>();
        assertThat(cache.joinOrRegister("k", first)).isNull();
        assertThat(cache.joinOrRegister("k", new CompletableFuture<>())).isSameAs(first);
        cache.finished("k");
        assertThat(cache.joinOrRegister("k", new CompletableFuture<>())).isNull();
    }

    @Test
    void anExpiredAnswerIsKeptAsAStandInAndItsUseLoggedOnce() {
        LookupCache cache = new LookupCache();
        cache.put("k", LookupOutcome.none("not found"), 0);
        assertThat(cache.get("k").freshAt(1_000, 500)).isFalse();
        assertThat(cache.firstStaleUse("k")).isTrue();
        assertThat(cache.firstStaleUse("k")).isFalse();
        cache.put("k", LookupOutcome.none("not found"), 2_000);
        assertThat(cache.firstStaleUse("k")).isTrue();
    }
}
