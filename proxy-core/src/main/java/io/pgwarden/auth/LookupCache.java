package io.pgwarden.auth;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Answers of past lookups, and the lookups under way, by (database entry, user name). Bounded in entries and in
 * weight (chars held): user names come from clients, and a flood of made-up names must not fill the heap. The
 * least recently used answer goes first. An answer past its TTL is kept (until evicted) to stand in while
 * PostgreSQL cannot be reached.
 */
final class LookupCache {

    static final int MAX_ENTRIES = 10_000;
    /** About 8 MB of chars: a SCRAM verifier is ~130, so this is never the limit for real roles. */
    static final long MAX_WEIGHT = 4_000_000;

    record Entry(LookupOutcome outcome, long storedAtNanos) {
        boolean freshAt(long nowNanos, long ttlNanos) {
            return nowNanos - storedAtNanos < ttlNanos;
        }
    }

    private final int maxEntries;
    private final long maxWeight;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, CompletableFuture<LookupOutcome>> inFlight = new HashMap<>();
    /** Keys whose stand-in use was logged since their last fresh answer: a restart logs once per user. */
    private final Set<String> staleLogged = new HashSet<>();
    private long weight;

    LookupCache() {
        this(MAX_ENTRIES, MAX_WEIGHT);
    }

    LookupCache(int maxEntries, long maxWeight) {
        this.maxEntries = maxEntries;
        this.maxWeight = maxWeight;
    }

    static String key(String database, String user) {
        return database + "\0" + user;
    }

    synchronized Entry get(String key) {
        return entries.get(key);
    }

    /** The lookup already under way for {@code key}, or null after registering {@code mine} as it. */
    synchronized CompletableFuture<LookupOutcome> joinOrRegister(String key, CompletableFuture<LookupOutcome> mine) {
        CompletableFuture<LookupOutcome> running = inFlight.get(key);
        if (running != null) {
            return running;
        }
        inFlight.put(key, mine);
        return null;
    }

    synchronized void finished(String key) {
        inFlight.remove(key);
    }

    synchronized void put(String key, LookupOutcome outcome, long nowNanos) {
        Entry old = entries.put(key, new Entry(outcome, nowNanos));
        if (old != null) {
            weight -= old.outcome().weight() + key.length();
        }
        weight += outcome.weight() + key.length();
        staleLogged.remove(key);
        Iterator<Map.Entry<String, Entry>> eldest = entries.entrySet().iterator();
        while ((entries.size() > maxEntries || weight > maxWeight) && eldest.hasNext()) {
            Map.Entry<String, Entry> e = eldest.next();
            weight -= e.getValue().outcome().weight() + e.getKey().length();
            staleLogged.remove(e.getKey());
            eldest.remove();
        }
    }

    /** True the first time since its last fresh answer that {@code key}'s expired answer stands in. */
    synchronized boolean firstStaleUse(String key) {
        return staleLogged.add(key);
    }

    synchronized int size() {
        return entries.size();
    }

    synchronized long weight() {
        return weight;
    }
}
