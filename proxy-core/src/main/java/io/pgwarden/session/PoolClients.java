package io.pgwarden.session;

import io.netty.channel.EventLoop;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.session.notify.NotificationHub;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the clients of one pool share: how many are in each state (so SHOW POOLS and a scrape cost O(pools), not
 * a walk of every client, as PgBouncer keeps a list per state for the same reason), and the caches that let
 * clients carry their settings between backends cheaply. Thread-safe: sessions on every event loop use it.
 */
public final class PoolClients {

    private static final int MAX_SPELLINGS = 1_000;
    private static final int MAX_SETTINGS_SETS = 10_000;
    private static final int MAX_ACCEPTED_STARTUP = 10_000;

    private final LongAdder[] byState = new LongAdder[ClientState.values().length];
    /**
     * How the server reports a setting a client asked for ("ISO" becomes "ISO, MDY"), learned at logins that
     * applied it, so later logins served without a backend report the same spelling.
     */
    private final ConcurrentMap<String, String> spellings = new ConcurrentHashMap<>();
    private final ConcurrentMap<Map<String, String>, Map<String, String>> settingsSets = new ConcurrentHashMap<>();
    /** Startup settings (name and value) this pool's server accepted: a login asking for them is not checked. */
    private final java.util.Set<String> acceptedStartup = ConcurrentHashMap.newKeySet();
    private volatile DistributionDataPoint waitHistogram;
    /** Made when the pool's first client LISTENs in transaction mode. */
    private NotificationHub notifications;

    PoolClients() {
        for (int i = 0; i < byState.length; i++) {
            byState[i] = new LongAdder();
        }
    }

    /** Clients of this pool in {@code state} now (a sum of per-thread cells: exact once the clients are still). */
    public int count(ClientState state) {
        return (int) byState[state.ordinal()].sum();
    }

    /** Clients of this pool in any state. */
    public int total() {
        long sum = 0;
        for (LongAdder count : byState) {
            sum += count.sum();
        }
        return (int) sum;
    }

    void moved(ClientState from, ClientState to) {
        if (from != null && from != ClientState.CLOSED) {
            byState[from.ordinal()].decrement();
        }
        if (to != null && to != ClientState.CLOSED) {
            byState[to.ordinal()].increment();
        }
    }

    void rememberSpelling(String name, String requested, String reported) {
        if (spellings.size() < MAX_SPELLINGS) {
            spellings.put(name + "\0" + requested, reported);
        }
    }

    boolean acceptedAtStartup(String name, String value) {
        return acceptedStartup.contains(SessionSettings.canonicalName(name) + "\0" + value);
    }

    void acceptAtStartup(String name, String value) {
        if (acceptedStartup.size() >= MAX_ACCEPTED_STARTUP) {
            // Only a shortcut: a forgotten pair costs one check at its next login.
            acceptedStartup.clear();
        }
        acceptedStartup.add(SessionSettings.canonicalName(name) + "\0" + value);
    }

    String spellingOf(String name, String requested) {
        return spellings.getOrDefault(name + "\0" + requested, requested);
    }

    /**
     * One shared immutable copy per distinct set of client settings, so that a client and a backend carrying the
     * same set can tell by identity instead of comparing maps on every transaction.
     */
    Map<String, String> canonicalSettings(Map<String, String> settings) {
        Map<String, String> known = settingsSets.get(settings);
        if (known != null) {
            return known;
        }
        if (settingsSets.size() >= MAX_SETTINGS_SETS) {
            // Identity is only a shortcut: forgetting the sets costs one map comparison per backend, nothing else.
            settingsSets.clear();
        }
        Map<String, String> copy = Map.copyOf(settings);
        known = settingsSets.putIfAbsent(copy, copy);
        return known != null ? known : copy;
    }

    /** The pool's listening backend's hub; {@code loop}, the first asker's, becomes its loop. */
    synchronized NotificationHub notifications(BackendPool pool, EventLoop loop) {
        if (notifications == null) {
            notifications = new NotificationHub(pool.key().toString(), loop, pool::openUnpooled);
        }
        return notifications;
    }

    /**
     * The pool's wait-time series once looked up, else null: finding a labelled series costs more than observing
     * it, so it is looked up once per pool, not per wait.
     */
    DistributionDataPoint waitHistogram() {
        return waitHistogram;
    }

    DistributionDataPoint rememberWaitHistogram(DistributionDataPoint histogram) {
        waitHistogram = histogram;
        return histogram;
    }
}
