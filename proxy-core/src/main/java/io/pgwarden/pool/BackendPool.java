package io.pgwarden.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.backend.LossReason;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.session.EventLog;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backends of one (database, user): at most {@code max_size} of them, handed to waiting clients in
 * FIFO order. Idle backends are reused newest first so the busy set stays warm and the rest can age out.
 * Callbacks to clients run outside the lock, on the client's own event loop.
 */
public final class BackendPool {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
    private static final long FIRST_RETRY_MILLIS = 100;
    /** Kept short so a restarted PostgreSQL is back in service within about a second of accepting connections. */
    private static final long MAX_RETRY_MILLIS = 1_000;

    private final PoolKey key;
    private volatile PoolSettings settings;
    private volatile boolean paused;
    /** Backends opened before the last RECONNECT are replaced as soon as they are idle. */
    private volatile int generation;
    private final PoolStats stats = new PoolStats();
    private final ExhaustionTracker exhaustion;
    private final ProxyMetrics metrics;
    private final BackendConnector connector;
    private final BackendConnector.Target target;
    private final EventLoopGroup backgroundLoops;
    private final BackendListener idleListener = new IdleListener();

    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<PoolWaiter> waiters = new ArrayDeque<>();
    /** How far down the line {@link #takeWaiterFor} looks for a waiter on the backend's loop. */
    private static final int SAME_LOOP_SCAN = 16;
    private static final int MAX_HEAD_SKIPS = 4;
    private int headSkips;
    private int total;
    private int opening;
    private int checking;
    private int consecutiveFailures;
    private boolean retryScheduled;
    /**
     * Set when a client drops this pool's database: min_size refills wait for the next client of the pool, or
     * the backends they open would make the DROP fail ("being accessed by other users") and then find no
     * database.
     */
    private boolean minSizeHeld;
    /**
     * Set by a RELOAD that removed this pool's database or user, with the reason its backends close: its clients
     * keep being served until they leave, but nothing stays idle and nothing refills.
     */
    private String retiredBecause;
    private String lastConnectError;
    private volatile Map<String, String> serverParameters;

    public BackendPool(PoolKey key, PoolSettings settings, BackendConnector connector,
                       BackendConnector.Target target, EventLoopGroup backgroundLoops, EventLog events,
                       ProxyMetrics metrics) {
        this.key = key;
        this.exhaustion = new ExhaustionTracker(key, events);
        this.metrics = metrics;
        this.backgroundLoops = backgroundLoops;
        this.settings = settings;
        this.connector = connector;
        this.target = target;
    }

    public PoolKey key() {
        return key;
    }

    /**
     * How the server reports a setting a client asked for ("ISO" becomes "ISO, MDY"), learned at logins that
     * applied it, so later logins served without a backend report the same spelling.
     */
    private final java.util.concurrent.ConcurrentMap<String, String> spellings =
            new java.util.concurrent.ConcurrentHashMap<>();

    public void rememberSpelling(String name, String requested, String reported) {
        if (spellings.size() < 1_000) {
            spellings.put(name + "\0" + requested, reported);
        }
    }

    /**
     * One shared immutable copy per distinct set of client settings, so that a client and a backend carrying the
     * same set can tell by identity instead of comparing maps on every transaction.
     */
    public Map<String, String> canonicalSettings(Map<String, String> settings) {
        Map<String, String> known = settingsSets.get(settings);
        if (known != null) {
            return known;
        }
        if (settingsSets.size() >= 10_000) {
            // Identity is only a shortcut: forgetting the sets costs one map comparison per backend, nothing else.
            settingsSets.clear();
        }
        Map<String, String> copy = Map.copyOf(settings);
        known = settingsSets.putIfAbsent(copy, copy);
        return known != null ? known : copy;
    }

    private final java.util.concurrent.ConcurrentMap<Map<String, String>, Map<String, String>> settingsSets =
            new java.util.concurrent.ConcurrentHashMap<>();

    public String spellingOf(String name, String requested) {
        return spellings.getOrDefault(name + "\0" + requested, requested);
    }

    /** The PostgreSQL database name this pool logs in to. */
    public String dbname() {
        return target.database();
    }

    public PoolSettings settings() {
        return settings;
    }

    /** ParameterStatus values of the first backend that logged in, or null before any did. */
    public Map<String, String> serverParameters() {
        return serverParameters;
    }

    /**
     * Returns an idle backend at once when nobody is queued ahead, or else queues the waiter, which then gets
     * a backend through {@link PoolWaiter#onBackendAcquired} as soon as one is free or opened, and returns null.
     */
    public BackendConnection acquire(PoolWaiter waiter) {
        List<Runnable> actions = new ArrayList<>();
        BackendConnection acquired = null;
        synchronized (this) {
            minSizeHeld = false;
            while (acquired == null && !paused && waiters.isEmpty() && !idle.isEmpty()) {
                BackendConnection backend = takeIdleFor(waiter.eventLoop());
                if (usableNow(backend, actions)) {
                    handOver(backend);
                    acquired = backend;
                }
            }
            if (acquired == null) {
                waiters.addLast(waiter);
                dispatch(actions);
            }
        }
        // Also when a backend was found at once: the ones passed over on the way may have a check or a close due.
        actions.forEach(Runnable::run);
        return acquired;
    }

    private static void handOver(BackendConnection backend) {
        backend.toLinked(null);
    }

    /** Runs a waiter callback on its loop: directly when already there, saving a task and a wakeup. */
    private static void onLoopOf(PoolWaiter waiter, Runnable callback) {
        if (waiter.eventLoop().inEventLoop()) {
            callback.run();
        } else {
            waiter.eventLoop().execute(callback);
        }
    }

    /** Removes a waiter that gave up; false if it was already handed a backend. */
    public synchronized boolean cancelWait(PoolWaiter waiter) {
        return waiters.remove(waiter);
    }

    /** Takes back a clean backend (idle, no transaction, nothing in flight). */
    public void release(BackendConnection backend) {
        if (!backend.isUsable()) {
            discard(backend, backend.closeReason() != null ? backend.closeReason() : "server connection lost");
            return;
        }
        if (backend.ageNanos() > backend.lifetimeNanos() || backend.generation() != generation) {
            discard(backend, LossReason.LIFETIME_EXPIRED, backend.generation() != generation
                    ? "replaced by RECONNECT" : "lifetime " + settings.server().lifetime() + " reached");
            return;
        }
        backend.markVerified();
        // Under load a release hands the backend straight on: one action, so no room for ten.
        List<Runnable> actions = new ArrayList<>(2);
        synchronized (this) {
            if (backend.state() == BackendConnection.State.IDLE) {
                // Released twice: a bug elsewhere; handing it out twice would be far worse.
                log.warn("event=double_release pool={} server={}", key, backend.id());
                return;
            }
            if (!backend.isUsable()) {
                forget(backend);
            } else {
                backToIdle(backend);
            }
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /**
     * A backend whose client left: rolled back if {@code inTransaction}, then {@code resetQuery} (null or blank for
     * none), and released only if both answer cleanly; closed otherwise. It must have nothing in flight.
     */
    public void resetAndRelease(BackendConnection backend, boolean inTransaction, String resetQuery) {
        BackendReset.start(this, backend, inTransaction, resetQuery);
    }

    private void backToIdle(BackendConnection backend) {
        backend.toIdle(idleListener);
        idle.addLast(backend);
    }

    /**
     * Whether an idle backend just taken may go to a client at once. One idle longer than check_delay is
     * checked first (and comes back through {@link #afterCheck}); an expired or dead one is dropped.
     */
    private boolean usableNow(BackendConnection backend, List<Runnable> actions) {
        if (!backend.isUsable()) {
            forget(backend);
            return false;
        }
        if (backend.ageNanos() > backend.lifetimeNanos() || backend.generation() != generation) {
            forget(backend);
            actions.add(() -> backend.close(LossReason.LIFETIME_EXPIRED, backend.generation() != generation
                    ? "replaced by RECONNECT" : "lifetime reached while idle"));
            return false;
        }
        if (System.nanoTime() - backend.verifiedAtNanos() >= settings.server().checkDelay().toNanos()) {
            startCheck(backend, actions);
            return false;
        }
        return true;
    }

    /** Caller holds the lock and has taken {@code backend} out of the idle list; it stays counted meanwhile. */
    private void startCheck(BackendConnection backend, List<Runnable> actions) {
        checking++;
        actions.add(() -> HealthCheck.run(backend, settings.server().checkQuery(), settings.server().checkTimeout(),
                healthy -> afterCheck(backend, healthy)));
    }

    private void afterCheck(BackendConnection backend, boolean healthy) {
        metrics.healthCheck(healthy);
        if (!healthy) {
            synchronized (this) {
                checking--;
            }
            discard(backend, LossReason.HEALTH_CHECK_FAILED, "no healthy answer to the check query within "
                    + settings.server().checkTimeout().toMillis() + " ms");
            return;
        }
        backend.markVerified();
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            checking--;
            if (!backend.isUsable()) {
                forget(backend);
            } else if (!waiters.isEmpty()) {
                // Just checked: straight to the next waiter, or a check_delay of 0 would check it forever.
                PoolWaiter waiter = waiters.pollFirst();
                handOver(backend);
                actions.add(() -> onLoopOf(waiter, () -> waiter.onBackendAcquired(backend)));
            } else {
                backToIdle(backend);
            }
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /**
     * The janitor's round: closes idle backends past their lifetime or idle_timeout (keeping min_size), checks
     * those unverified for health_check_interval, and tops the pool up to min_size.
     */
    public void maintain() {
        long now = System.nanoTime();
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            long idleTimeout = settings.server().idleTimeout().toNanos();
            long checkInterval = settings.server().healthCheckInterval().toNanos();
            Iterator<BackendConnection> it = idle.iterator();
            while (it.hasNext()) {
                BackendConnection backend = it.next();
                long idleFor = now - backend.verifiedAtNanos();
                if (backend.ageNanos() > backend.lifetimeNanos()) {
                    it.remove();
                    forget(backend);
                    actions.add(() -> backend.close(LossReason.LIFETIME_EXPIRED, "lifetime reached while idle"));
                } else if (idleTimeout > 0 && idleFor > idleTimeout && total > settings.minSize()) {
                    it.remove();
                    forget(backend);
                    actions.add(() -> backend.close(LossReason.IDLE_TIMEOUT, "idle longer than idle_timeout"));
                } else if (idleFor >= checkInterval) {
                    it.remove();
                    startCheck(backend, actions);
                }
            }
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /** Closes a backend that cannot be reused and frees its slot. Safe to call more than once. */
    public void discard(BackendConnection backend, String reason) {
        discard(backend, LossReason.CLOSED_BY_PGWARDEN, reason);
    }

    public void discard(BackendConnection backend, LossReason reason, String detail) {
        backend.close(reason, detail);
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            idle.remove(backend);
            forget(backend);
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /** Opens one backend if the pool has none and is not already trying: the readiness probe's question. */
    public void probe() {
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            // A retired pool's database is not this proxy's business any more: nothing to be ready for.
            if (total == 0 && opening == 0 && !retryScheduled && retiredBecause == null) {
                total++;
                opening++;
                actions.add(() -> open(backgroundLoops.next()));
            }
        }
        actions.forEach(Runnable::run);
    }

    public boolean isPaused() {
        return paused;
    }

    /** PAUSE: new transactions wait (without timing out) until {@link #resume()}. */
    public void pause() {
        paused = true;
    }

    public void resume() {
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            paused = false;
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /** RECONNECT: every backend is replaced, each as soon as it is idle; clients keep working meanwhile. */
    public void reconnect() {
        generation++;
        maintain();
    }

    /**
     * RELOAD: new sizes and timeouts apply from the next checkout on; nobody is disconnected. A retired pool whose
     * database and user are configured again is back in service.
     */
    public void updateSettings(PoolSettings next) {
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            settings = next;
            retiredBecause = null;
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    public synchronized List<BackendConnection> idleSnapshot() {
        return new ArrayList<>(idle);
    }

    public PoolStats stats() {
        return stats;
    }

    /** Counts for SHOW POOLS and the metrics. */
    public synchronized Counts counts() {
        return new Counts(total - idle.size() - checking - opening, idle.size(), checking, opening, waiters.size(),
                lastConnectError);
    }

    /** Server connections by state, and what is waiting. */
    public record Counts(int active, int idle, int testing, int opening, int waiting, String lastConnectError) {
    }

    private void noteExhaustion() {
        int waiting = waiters.size();
        // Checked before reading the clock: this runs on every release.
        if (exhaustion.mayChange(total, settings.maxSize(), waiting)) {
            exhaustion.note(System.nanoTime(), total, settings.maxSize(), waiting);
        }
    }

    /** A one-line picture of the pool for error messages and logs. */
    public synchronized String describe() {
        return "pool " + key + " has " + (total - idle.size() - checking - opening) + " of " + settings.maxSize()
                + " server connections in use, " + waiters.size() + " clients waiting";
    }

    public synchronized String lastConnectError() {
        return lastConnectError;
    }

    public synchronized int size() {
        return total;
    }

    public synchronized int idleCount() {
        return idle.size();
    }

    public void closeAll(String reason) {
        List<BackendConnection> toClose;
        synchronized (this) {
            toClose = new ArrayList<>(idle);
        }
        toClose.forEach(b -> discard(b, reason));
    }

    /**
     * RELOAD removed this pool's database or user: its idle backends close now, the ones its clients give back
     * close too, and min_size is no longer kept, until {@link #updateSettings} brings it back.
     */
    public void retire(String reason) {
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            retiredBecause = reason;
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /** Before a client's DROP DATABASE of this pool's database: idle backends close, and none reopen on their own. */
    public void closeForDrop(String reason) {
        synchronized (this) {
            minSizeHeld = true;
        }
        closeAll(reason);
    }

    private void forget(BackendConnection backend) {
        if (backend.uncount()) {
            total--;
        }
    }

    /**
     * Pairs idle backends with waiters, then opens as many new backends as the remaining waiters need
     * and as min_size asks for.
     */
    private void dispatch(List<Runnable> actions) {
        noteExhaustion();
        while (!paused && !waiters.isEmpty() && !idle.isEmpty()) {
            BackendConnection backend = idle.pollLast();
            if (!usableNow(backend, actions)) {
                continue;
            }
            PoolWaiter waiter = takeWaiterFor(backend.eventLoop());
            handOver(backend);
            actions.add(() -> onLoopOf(waiter, () -> waiter.onBackendAcquired(backend)));
        }
        if (retiredBecause != null) {
            closeIdle(retiredBecause, actions);
        }
        if (retryScheduled) {
            return;
        }
        Iterator<PoolWaiter> unserved = waiters.iterator();
        for (int skip = 0; skip < opening && unserved.hasNext(); skip++) {
            unserved.next();
        }
        while (unserved.hasNext() && total < settings.maxSize()) {
            EventLoop loop = unserved.next().eventLoop();
            total++;
            opening++;
            actions.add(() -> open(loop));
        }
        while (keepsMinSize() && total < settings.minSize()) {
            total++;
            opening++;
            actions.add(() -> open(backgroundLoops.next()));
        }
    }

    private boolean keepsMinSize() {
        return !minSizeHeld && retiredBecause == null;
    }

    private void closeIdle(String reason, List<Runnable> actions) {
        while (!idle.isEmpty()) {
            BackendConnection backend = idle.pollFirst();
            forget(backend);
            actions.add(() -> backend.close(reason));
        }
    }

    /** Opens backends up to min_size without waiting for a client to ask. */
    public void fill() {
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /**
     * The newest idle backend on the waiter's own event loop if there is one, else the newest of all:
     * a backend on the client's loop relays without a thread hop per message.
     */
    /**
     * The waiter a free backend goes to: the first in line, unless one a few places behind it runs on the
     * backend's own event loop. A client and backend on different loops pay a task hand-off and a thread wake-up
     * for every message both ways, which under a full pool was most of the proxy's cost. The head is passed over
     * at most {@link #MAX_HEAD_SKIPS} times in a row, so nobody waits much longer than strict FIFO would make it.
     */
    private PoolWaiter takeWaiterFor(EventLoop loop) {
        PoolWaiter head = waiters.peekFirst();
        if (head.eventLoop() != loop && headSkips < MAX_HEAD_SKIPS) {
            Iterator<PoolWaiter> inLine = waiters.iterator();
            inLine.next();
            for (int place = 1; place < SAME_LOOP_SCAN && inLine.hasNext(); place++) {
                PoolWaiter candidate = inLine.next();
                if (candidate.eventLoop() == loop) {
                    inLine.remove();
                    headSkips++;
                    return candidate;
                }
            }
        }
        headSkips = 0;
        return waiters.pollFirst();
    }

    private BackendConnection takeIdleFor(EventLoop loop) {
        Iterator<BackendConnection> newestFirst = idle.descendingIterator();
        while (newestFirst.hasNext()) {
            BackendConnection candidate = newestFirst.next();
            if (candidate.eventLoop() == loop) {
                newestFirst.remove();
                return candidate;
            }
        }
        return idle.pollLast();
    }

    private void open(EventLoop loop) {
        connector.connect(loop, target).whenComplete((backend, error) -> {
            if (backend != null) {
                onOpened(backend);
            } else {
                onOpenFailed(loop, error);
            }
        });
    }

    private void onOpened(BackendConnection backend) {
        metrics.reconnectAttempt(key.database(), true);
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            opening--;
            consecutiveFailures = 0;
            lastConnectError = null;
            if (serverParameters == null) {
                serverParameters = backend.parameters();
            }
            backend.setLifetimeNanos(jitteredLifetime());
            backend.setGeneration(generation);
            backendToIdleAfterOpen(backend);
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    private void backendToIdleAfterOpen(BackendConnection backend) {
        backend.markVerified();
        backToIdle(backend);
    }

    /** Somewhere in the last fifth of the configured lifetime; 0 means no limit. */
    private long jitteredLifetime() {
        long lifetime = settings.server().lifetime().toNanos();
        if (lifetime <= 0) {
            return Long.MAX_VALUE;
        }
        return lifetime - java.util.concurrent.ThreadLocalRandom.current().nextLong(lifetime / 5 + 1);
    }

    private void onOpenFailed(EventLoop loop, Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
        BackendLoginException failure = cause instanceof BackendLoginException e ? e
                : new BackendLoginException(ErrorResponse.fatal("08001", String.valueOf(cause)), false);
        metrics.reconnectAttempt(key.database(), false);
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            opening--;
            total--;
            consecutiveFailures++;
            lastConnectError = failure.error().message();
            if (failure.permanent()) {
                // Retrying a wrong password only earns the same answer; tell everyone now.
                List<PoolWaiter> failed = new ArrayList<>(waiters);
                waiters.clear();
                for (PoolWaiter waiter : failed) {
                    actions.add(() -> onLoopOf(waiter, () -> waiter.onAcquireFailed(failure.error())));
                }
            } else if (!waiters.isEmpty() || (keepsMinSize() && total < settings.minSize())) {
                retryScheduled = true;
                long delay = backoffMillis();
                log.info("event=server_retry pool={} delay_ms={} reason=\"{}\"", key, delay, lastConnectError);
                loop.schedule(this::retry, delay, TimeUnit.MILLISECONDS);
            }
        }
        actions.forEach(Runnable::run);
    }

    private void retry() {
        List<Runnable> actions = new ArrayList<>();
        synchronized (this) {
            retryScheduled = false;
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /** Exponential backoff with jitter so a restart of PostgreSQL is not met by every pool at once. */
    private long backoffMillis() {
        long base = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(consecutiveFailures - 1, 10));
        return base / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(base / 2 + 1);
    }

    /** Listens to backends while they sit idle: anything they say, or their death, takes them out of the pool. */
    private final class IdleListener implements BackendListener {
        @Override
        public void onBackendMessage(BackendConnection backend, ByteBuf message) {
            message.release();
            // An idle backend has no business talking (PostgreSQL sends FATAL before it terminates a session).
            discard(backend, "server sent a message while idle");
        }

        @Override
        public void onBackendClosed(BackendConnection backend, String reason) {
            discard(backend, reason);
        }
    }
}
