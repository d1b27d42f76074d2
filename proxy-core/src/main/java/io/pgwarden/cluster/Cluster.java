package io.pgwarden.cluster;

import io.pgwarden.backend.HostEpoch;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.config.ClusterSettings;
import io.pgwarden.config.HostPort;
import io.pgwarden.config.TargetSessionAttrs;
import io.pgwarden.log.LogValues;
import io.pgwarden.metrics.EventLog;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
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
    /** Failovers ended on a new target, and the time spent without one in those that ended: for the metrics. */
    private long failoversCompleted;
    private long nanosWithoutTargetEnded;
    /** Other hosts that accept writes while the target does too, as the probes last found them; empty when none. */
    private List<HostPort> splitBrain = List.of();
    /** Requests lost on one host and replayed on another: counted by the clients' sessions, read by the metrics. */
    private final LongAdder failoverReplays = new LongAdder();
    /** Told how many clients of the database wait and the longest wait, for the failover_end event. */
    private volatile java.util.function.Supplier<String> waitPicture = () -> null;
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
        checkSplitBrain();
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
        HostState was = hosts.get(host);
        if (was != null) {
            hosts.put(host, new HostState(host, role, null));
            // Probes ask every host each health check interval: only a change is worth a line.
            if (settings.severalHosts() && (was.lastError() != null || !role.equals(was.role()))) {
                log.info("event=host_state database={} host={} role={} was={}", database, host,
                        LogValues.quote(role.describe()), LogValues.quote(was.lastError() != null ? was.lastError()
                                : was.role() != null ? was.role().describe() : "unknown"));
            }
            checkSplitBrain();
        }
    }

    /** A login to {@code host} failed, or found a role that does not fit. */
    synchronized void noteError(HostPort host, String error) {
        HostState state = hosts.get(host);
        if (state != null) {
            hosts.put(host, new HostState(host, state.role(), error));
            if (settings.severalHosts() && state.lastError() == null) {
                log.warn("event=host_error database={} host={} reason={}", database, host, LogValues.quote(error));
            }
            checkSplitBrain();
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
        // Read outside this monitor: it takes the pools' locks.
        String waits = failoverSinceNanos() >= 0 ? waitPicture.get() : null;
        synchronized (this) {
            HostPort previous = target;
            target = host;
            if (failoverSinceNanos >= 0) {
                long nanos = System.nanoTime() - failoverSinceNanos;
                long millis = nanos / 1_000_000;
                announce("failover_end", "host=" + host + " duration_ms=" + millis
                        + (waits == null ? "" : " " + waits) + " cause=" + LogValues.quote(failoverCause));
                if (settings.severalHosts()) {
                    failoversCompleted++;
                    nanosWithoutTargetEnded += nanos;
                }
                failoverSinceNanos = -1;
                failoverCause = null;
            } else if (previous == null && settings.severalHosts()) {
                log.info("event=target_chosen database={} host={}", database, host);
            }
            done = search;
            search = null;
            checkSplitBrain();
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

    /**
     * Since when clients of this database are held for a failover ({@link System#nanoTime()}), or -1 when they
     * are not: a single host's restart is no failover, and its clients keep query_wait_timeout as always.
     */
    public synchronized long holdingSinceNanos() {
        return settings.severalHosts() ? failoverSinceNanos : -1;
    }

    /** Why the running failover started (the lost target and its error), or null when none runs. */
    public synchronized String failoverCause() {
        return failoverCause;
    }

    /** What the hosts last answered, for the error a client held past failover_timeout gets. */
    public String hostsPicture() {
        return describeHosts();
    }

    /** Whether two hosts may both take this database's writes: only target_session_attrs that ask for writes care. */
    private boolean wantsTheOneWriter() {
        TargetSessionAttrs attrs = settings.targetSessionAttrs();
        return settings.severalHosts() && (attrs == TargetSessionAttrs.READ_WRITE || attrs == TargetSessionAttrs.PRIMARY);
    }

    /** Hosts other than {@code host} whose last answer (a login, a probe) fits target_session_attrs, if it asks for writes. */
    synchronized List<HostPort> otherWriters(HostPort host) {
        if (!wantsTheOneWriter()) {
            return List.of();
        }
        return hosts.values().stream().filter(h -> !h.host().equals(host) && h.lastError() == null && h.role() != null
                && h.role().matches(settings.targetSessionAttrs())).map(HostState::host).toList();
    }

    /**
     * Between failovers: another host accepts writes while the target does too. The target keeps the writes (it is
     * tried first); the state is logged once as it begins and ends, and shown by SHOW DATABASES and the metrics.
     */
    private void checkSplitBrain() {
        if (target == null) {
            // A search decides with fresh logins (see splitBrainInSearch); what it found stays shown until then.
            return;
        }
        HostState current = hosts.get(target);
        boolean targetWrites = current != null && current.lastError() == null && current.role() != null
                && current.role().matches(settings.targetSessionAttrs());
        showSplitBrain(targetWrites ? otherWriters(target) : List.of(), target);
    }

    /** A search found {@code writers} all accepting writes, with no target to prefer: it refuses every one of them. */
    synchronized void splitBrainInSearch(List<HostPort> writers) {
        showSplitBrain(List.copyOf(writers), null);
    }

    private void showSplitBrain(List<HostPort> others, HostPort kept) {
        if (others.equals(splitBrain)) {
            return;
        }
        if (!others.isEmpty()) {
            String detail = kept != null
                    ? "target=" + kept + " also_writable=" + join(others) + " action=kept_target"
                    : "writable=" + join(others) + " action=refused_all";
            log.warn("event=split_brain database={} {}", database, detail);
            events.add(database, "split_brain", detail);
        } else {
            log.info("event=split_brain_end database={} was={}", database, join(splitBrain));
            events.add(database, "split_brain_end", "was " + join(splitBrain));
        }
        splitBrain = others;
    }

    private static String join(List<HostPort> hosts) {
        return String.join(",", hosts.stream().map(HostPort::toString).toList());
    }

    /** Counts for the metrics; {@code secondsWithoutTarget} includes the running failover's time so far. */
    public record Stats(long failoversCompleted, double secondsWithoutTarget, boolean failoverInProgress,
                        List<HostPort> splitBrain) {
    }

    public synchronized Stats stats() {
        long running = settings.severalHosts() && failoverSinceNanos >= 0 ? System.nanoTime() - failoverSinceNanos
                : 0;
        return new Stats(failoversCompleted, (nanosWithoutTargetEnded + running) / 1e9, holdingSinceNanos() >= 0,
                splitBrain);
    }

    /** A client's requests, lost on one host, were sent again on another. */
    public void replayedAcrossHosts() {
        failoverReplays.increment();
    }

    /** Requests replayed on another host than the one they were lost on, since the start. */
    public long failoverReplays() {
        return failoverReplays.sum();
    }

    /**
     * Where the failover_end event learns how long clients waited: a line such as {@code clients_waiting=3
     * longest_wait_ms=2300} read from the database's pools, or null. The pools live above this package.
     */
    public void watchWaits(java.util.function.Supplier<String> picture) {
        waitPicture = picture;
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
