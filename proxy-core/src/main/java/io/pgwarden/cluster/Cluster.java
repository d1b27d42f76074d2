package io.pgwarden.cluster;

import io.pgwarden.backend.HostEpoch;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.config.ClusterSettings;
import io.pgwarden.config.HostPort;
import io.pgwarden.log.LogValues;
import io.pgwarden.metrics.EventLog;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The servers of one database entry and which of them its backends go to now (the target). Shared by every pool
 * of the database, so that one pool finding the new primary moves them all, and only one search runs at a time.
 */
public final class Cluster {

    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    /** What pgwarden last learnt of one host: its role at the last login, or why the last login failed. */
    public record HostState(HostPort host, ServerRole role, String lastError) {
    }

    /** A consistent picture for SHOW and the metrics; {@code failoverSinceNanos} is -1 while a target is known. */
    public record Snapshot(HostPort target, long failoverSinceNanos, List<HostState> hosts) {
    }

    private final String database;
    private final EventLog events;
    private volatile ClusterSettings settings;
    private HostPort target;
    private final Map<HostPort, HostState> hosts = new LinkedHashMap<>();
    private long failoverSinceNanos = -1;
    private String failoverCause;
    private CompletableFuture<HostPort> search;
    /** Per host: backends that logged in before the host was last found unfit are retired. */
    private final Map<HostPort, HostEpoch> epochs = new ConcurrentHashMap<>();
    /** Per host: the fresh login that checks whether a role change one backend reported holds for the server. */
    private final Map<HostPort, CompletableFuture<Boolean>> verifying = new HashMap<>();

    public Cluster(String database, ClusterSettings settings, EventLog events) {
        this.database = database;
        this.settings = settings;
        this.events = events;
        settings.hosts().forEach(h -> hosts.put(h, new HostState(h, null, null)));
    }

    public String database() {
        return database;
    }

    public ClusterSettings settings() {
        return settings;
    }

    /** RELOAD: a target still listed stays the target; hosts no longer listed are forgotten. */
    public synchronized void update(ClusterSettings next) {
        settings = next;
        Map<HostPort, HostState> kept = new LinkedHashMap<>();
        next.hosts().forEach(h -> kept.put(h, hosts.getOrDefault(h, new HostState(h, null, null))));
        hosts.clear();
        hosts.putAll(kept);
        if (target != null && !hosts.containsKey(target)) {
            lose(target, "no longer listed in the configuration");
        }
    }

    /** Where new backends go, or null while none is known (at start, or since the last one was lost). */
    public synchronized HostPort target() {
        return target;
    }

    /** Since when no host matching target_session_attrs is known, or -1. */
    public synchronized long failoverSinceNanos() {
        return failoverSinceNanos;
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(target, failoverSinceNanos, List.copyOf(hosts.values()));
    }

    /** The hosts in the order a search tries them: as listed, with the target that just failed tried last. */
    synchronized List<HostPort> searchOrder(HostPort failed) {
        List<HostPort> order = new ArrayList<>(settings.hosts());
        if (failed != null && order.remove(failed)) {
            order.add(failed);
        }
        return order;
    }

    /**
     * The running search for a target, or null after starting none because {@code starter} is to run it: the
     * caller that gets null must finish it with {@link #found} or {@link #notFound}.
     */
    synchronized CompletableFuture<HostPort> joinSearch() {
        if (search != null) {
            return search;
        }
        search = new CompletableFuture<>();
        return null;
    }

    /** A backend logged in to {@code host} and found it {@code role}. */
    synchronized void noteRole(HostPort host, ServerRole role) {
        if (hosts.containsKey(host)) {
            hosts.put(host, new HostState(host, role, null));
        }
    }

    /** A login to {@code host} failed, or found a role that does not fit. */
    synchronized void noteError(HostPort host, String error) {
        HostState state = hosts.get(host);
        if (state != null) {
            hosts.put(host, new HostState(host, state.role(), error));
        }
    }

    /** The target's backends cannot be opened, or it no longer fits: new backends wait for a search. */
    synchronized void lost(HostPort host, String why) {
        if (host.equals(target)) {
            lose(host, why);
        }
    }

    private void lose(HostPort host, String why) {
        target = null;
        startFailover(host + " " + why);
    }

    private void startFailover(String cause) {
        if (failoverSinceNanos < 0) {
            failoverSinceNanos = System.nanoTime();
            failoverCause = cause;
            announce("failover_start", "reason=" + LogValues.quote(cause));
        }
    }

    /** A single server's restart is no failover: its own log lines (server_retry and the like) say enough. */
    private void announce(String kind, String detail) {
        if (settings.severalHosts()) {
            log.warn("event={} database={} {}", kind, database, detail);
            events.add(database, kind, detail);
        }
    }

    /** A search ended on {@code host}: it is the target now, and those waiting for the search are told. */
    void found(HostPort host) {
        CompletableFuture<HostPort> done;
        synchronized (this) {
            HostPort previous = target;
            target = host;
            if (failoverSinceNanos >= 0) {
                long millis = (System.nanoTime() - failoverSinceNanos) / 1_000_000;
                announce("failover_end", "host=" + host + " duration_ms=" + millis + " cause="
                        + LogValues.quote(failoverCause));
                failoverSinceNanos = -1;
                failoverCause = null;
            } else if (previous == null && settings.severalHosts()) {
                log.info("event=target_chosen database={} host={}", database, host);
            }
            done = search;
            search = null;
        }
        if (done != null) {
            done.complete(host);
        }
    }

    /** A search found no host that fits: its waiters get {@code failure}; the next connect searches again. */
    void notFound(Throwable failure) {
        CompletableFuture<HostPort> done;
        synchronized (this) {
            startFailover("no host matches target_session_attrs=" + settings.targetSessionAttrs());
            done = search;
            search = null;
        }
        if (done != null) {
            done.completeExceptionally(failure);
        }
    }

    /** Where the backends of {@code host} learn that their server no longer fits. */
    HostEpoch epoch(HostPort host) {
        return epochs.computeIfAbsent(host, h -> new HostEpoch());
    }

    /**
     * A fresh login found {@code host} unfit for target_session_attrs: the backends it already has are retired
     * as they come back, and if it was the target, new backends search.
     */
    void unfit(HostPort host, String why) {
        epoch(host).advance("server " + why);
        lost(host, why);
    }

    /**
     * The check of {@code host} running now, or null after making {@code started} that check: a role change
     * seen by many backends at once is verified by one login.
     */
    synchronized CompletableFuture<Boolean> joinVerification(HostPort host, CompletableFuture<Boolean> started) {
        CompletableFuture<Boolean> running = verifying.get(host);
        if (running != null) {
            return running;
        }
        verifying.put(host, started);
        started.whenComplete((verdict, error) -> {
            synchronized (this) {
                verifying.remove(host, started);
            }
        });
        return null;
    }

    /** Each host with its last error or role, for the error a client gets when no host fits. */
    synchronized String describeHosts() {
        List<String> parts = new ArrayList<>();
        for (HostState state : hosts.values()) {
            String what = state.lastError() != null ? state.lastError()
                    : state.role() != null ? "is a " + state.role().describe() : "not tried";
            parts.add(state.host() + " (" + what + ")");
        }
        return String.join("; ", parts);
    }
}
