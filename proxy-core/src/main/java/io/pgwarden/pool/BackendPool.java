package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendOpener;
import io.pgwarden.backend.LossReason;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.metrics.EventLog;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backends of one (database, user): at most {@code max_size} of them, handed to waiting clients in FIFO order
 * ({@link WaitQueue}), idle ones reused newest first ({@link IdleBackends}). Callbacks to clients run outside the
 * lock, on the client's own event loop.
 */
public final class BackendPool {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    private final PoolKey key;
    private volatile PoolSettings settings;
    private volatile boolean paused;
    private final PoolStats stats = new PoolStats();
    private final ExhaustionTracker exhaustion;
    private final EventLoopGroup backgroundLoops;
    private final PoolDialer dialer;
    private final IdleBackends idle;
    private final WaitQueue waiters = new WaitQueue();
    /** Backends counted against max_size: in use, idle, being checked or being opened. */
    private int total;
    private int opening;
    /**
     * Set when a client drops this pool's database: min_size refills wait for the next client of the pool, or the
     * backends they open would make the DROP fail ("being accessed by other users") and then find no database.
     */
    private boolean minSizeHeld;
    /** Why its backends close, once a RELOAD removed its database or user: nothing stays idle, nothing refills. */
    private String retiredBecause;

    public BackendPool(PoolKey key, PoolSettings settings, BackendOpener opener,
                       BackendConnector.Target target, EventLoopGroup backgroundLoops, EventLog events,
                       ProxyMetrics metrics) {
        this.key = key;
        this.settings = settings;
        this.exhaustion = new ExhaustionTracker(key, events);
        this.backgroundLoops = backgroundLoops;
        this.dialer = new PoolDialer(this, opener, target, metrics);
        this.idle = new IdleBackends(this, metrics);
    }

    public PoolKey key() {
        return key;
    }

    /** The role's secret as last found (a looked-up user's may change): new backends log in with it. */
    public void usePassword(String password) {
        dialer.usePassword(password);
    }

    /** The PostgreSQL database name this pool logs in to. */
    public String dbname() {
        return dialer.dbname();
    }

    public PoolSettings settings() {
        return settings;
    }

    /** ParameterStatus values of the first backend that logged in, or null before any did. */
    public Map<String, String> serverParameters() {
        return dialer.serverParameters();
    }

    /**
     * Returns an idle backend at once when nobody is queued ahead, or else queues the waiter, which then gets
     * a backend through {@link PoolWaiter#onBackendAcquired} as soon as one is free or opened, and returns null.
     */
    public BackendConnection acquire(PoolWaiter waiter) {
        // Not through locked(): a backend found at once goes to the caller and leaves nothing to dispatch.
        List<Runnable> actions = new ArrayList<>();
        BackendConnection acquired = null;
        synchronized (this) {
            minSizeHeld = false;
            while (acquired == null && !paused && waiters.isEmpty() && !idle.isEmpty()) {
                BackendConnection backend = idle.takeIdleFor(waiter.eventLoop());
                if (idle.usableNow(backend, actions)) {
                    backend.toLinked(null);
                    acquired = backend;
                }
            }
            if (acquired == null) {
                waiters.add(waiter);
                dispatch(actions);
            }
        }
        // Also when a backend was found at once: those passed over on the way may have a check or a close due.
        actions.forEach(Runnable::run);
        return acquired;
    }

    /**
     * As {@link #cancelWait}, and returns {@link #describe()} as it was while the waiter still counted among those
     * waiting (a client told "0 clients waiting" while it waits itself is told wrong), or null if it had already been
     * handed a backend.
     */
    public synchronized String cancelWaitDescribing(PoolWaiter waiter) {
        String picture = describe();
        return waiters.remove(waiter) ? picture : null;
    }

    /**
     * A backend logged in as this pool's are, but outside max_size and never handed to a client: the holder
     * keeps it for its own use (the pool's notification hub) and closes it.
     */
    public CompletableFuture<BackendConnection> openUnpooled(EventLoop loop) {
        return dialer.openUnpooled(loop);
    }

    /** Removes a waiter that gave up; false if it was already handed a backend. */
    public synchronized boolean cancelWait(PoolWaiter waiter) {
        return waiters.remove(waiter);
    }

    /** How long the client first in line has waited (0 when nobody waits), without walking the queue. */
    public synchronized long longestWaitNanos(long nowNanos) {
        return waiters.longestWaitNanos(nowNanos);
    }

    /** Takes back a clean backend (idle, no transaction, nothing in flight). */
    public void release(BackendConnection backend) {
        io.netty.util.concurrent.Future<Void> cancel = backend.cancelInFlight();
        if (cancel != null) {
            cancel.addListener(f -> release(backend));
        } else if (!backend.isUsable()) {
            discard(backend, backend.closeReason() != null ? backend.closeReason() : "server connection lost");
        } else if (idle.expired(backend)) {
            discard(backend, IdleBackends.expiryLoss(backend), idle.expiryReason(backend));
        } else {
            backend.markVerified();
            // Under load a release hands the backend straight on: one action, so no room for ten.
            locked(backend, new ArrayList<>(2), BackendPool::takeBack);
        }
    }

    private void takeBack(BackendConnection backend, List<Runnable> actions) {
        if (backend.state() == BackendConnection.State.IDLE) {
            // Released twice: a bug elsewhere; handing it out twice would be far worse.
            log.warn("event=double_release pool={} server={}", key, backend.id());
        } else if (!backend.isUsable()) {
            forget(backend);
        } else {
            idle.add(backend);
        }
    }

    /**
     * A backend whose client left, with nothing in flight: rolled back if {@code inTransaction}, then reset with
     * {@code resetQuery} (null or blank for none), and released only if both answer cleanly; closed otherwise.
     */
    public void resetAndRelease(BackendConnection backend, boolean inTransaction, String resetQuery) {
        BackendReset.start(this, backend, inTransaction, resetQuery);
    }

    /** A check's verdict is in ({@link IdleBackends}): the backend goes to the next waiter, back to idle, or away. */
    void afterCheck(BackendConnection backend, boolean healthy) {
        locked(actions -> {
            idle.checkDone();
            if (!healthy || !backend.isUsable()) {
                forget(backend);
            } else if (idle.expired(backend)) {
                // The check's own query may be what told of a demotion (its ParameterStatus).
                forget(backend);
                actions.add(() -> backend.close(IdleBackends.expiryLoss(backend), idle.expiryReason(backend)));
            } else if (!waiters.isEmpty()) {
                // Just checked: straight to the next waiter, or a check_delay of 0 would check it forever.
                PoolWaiter waiter = waiters.pollFirst();
                backend.toLinked(null);
                actions.add(WaitQueue.handOff(waiter, backend));
            } else {
                idle.add(backend);
            }
        });
    }

    /** The janitor's round: {@link IdleBackends#sweep}, then min_size topped up. */
    public void maintain() {
        long now = System.nanoTime();
        locked(actions -> idle.sweep(now, actions));
    }

    /** Closes a backend that cannot be reused and frees its slot. Safe to call more than once. */
    public void discard(BackendConnection backend, String reason) {
        discard(backend, LossReason.CLOSED_BY_PGWARDEN, reason);
    }

    public void discard(BackendConnection backend, LossReason reason, String detail) {
        backend.close(reason, detail);
        locked(actions -> {
            idle.remove(backend);
            forget(backend);
        });
    }

    /** Opens one backend if the pool has none and is not already trying: the readiness probe's question. */
    public void probe() {
        locked(actions -> {
            // A retired pool's database is no business of this proxy any more: nothing to be ready for.
            if (total == 0 && opening == 0 && !dialer.retryPending() && retiredBecause == null
                    && dialer.mayOpenUnasked()) {
                openOne(backgroundLoops.next(), actions);
            }
        });
    }

    public boolean isPaused() {
        return paused;
    }

    /** PAUSE: new transactions wait (without timing out) until {@link #resume()}. */
    public void pause() {
        paused = true;
    }

    public void resume() {
        locked(actions -> paused = false);
    }

    /** RECONNECT: every backend is replaced, each as soon as it is idle; clients keep working meanwhile. */
    public void reconnect() {
        idle.renewAll();
        maintain();
    }

    /** RELOAD: new sizes and timeouts apply from the next checkout on, and nobody is disconnected. Un-retires. */
    public void updateSettings(PoolSettings next) {
        locked(actions -> {
            settings = next;
            retiredBecause = null;
        });
    }

    /** RELOAD changed the role or password its backends log in with: those opened from now on use the new one. */
    public void updateTarget(BackendConnector.Target next) {
        dialer.retarget(next);
    }

    /** The registry forgets a pool of the "*" entry whose database turns out not to exist. */
    public void onDatabaseMissing(Runnable action) {
        dialer.onDatabaseMissing(action);
    }

    /** RELOAD removed its database or user: its clients are served until they leave, but nothing is kept idle. */
    public void retire(String reason) {
        locked(actions -> retiredBecause = reason);
    }

    public synchronized List<BackendConnection> idleSnapshot() {
        return idle.snapshot();
    }

    public PoolStats stats() {
        return stats;
    }

    /** Counts for SHOW POOLS and the metrics. */
    public synchronized Counts counts() {
        return new Counts(total - idle.size() - idle.beingChecked() - opening, idle.size(), idle.beingChecked(),
                opening, waiters.size(), dialer.lastConnectError());
    }

    /** Server connections by state, and what is waiting. */
    public record Counts(int active, int idle, int testing, int opening, int waiting, String lastConnectError) {
    }

    /** A one-line picture of the pool for error messages and logs. */
    public synchronized String describe() {
        return "pool " + key + " has " + counts().active() + " of " + settings.maxSize()
                + " server connections in use, " + waiters.size() + (waiters.size() == 1 ? " client" : " clients")
                + " waiting";
    }

    public synchronized String lastConnectError() {
        return dialer.lastConnectError();
    }

    public synchronized int size() {
        return total;
    }

    public synchronized int idleCount() {
        return idle.size();
    }

    public void closeAll(String reason) {
        idleSnapshot().forEach(b -> discard(b, reason));
    }

    /** Before a client's DROP DATABASE of this pool's database: idle backends close, and none reopen on their own. */
    public void closeForDrop(String reason) {
        locked(actions -> minSizeHeld = true);
        closeAll(reason);
    }

    /** Opens backends up to min_size without waiting for a client to ask. */
    public void fill() {
        locked(actions -> { });
    }

    /**
     * Runs {@code body} under the lock, then {@link #dispatch}, then what both queued outside it: client callbacks,
     * checks, connects and closes must not hold the pool up, and may call back into it.
     */
    void locked(Consumer<List<Runnable>> body) {
        locked(body, new ArrayList<>(), (pool, b, actions) -> b.accept(actions));
    }

    /** Given the pool, so that release can pass a method reference that captures nothing: no lambda per call. */
    private interface LockedStep<T> {
        void run(BackendPool pool, T subject, List<Runnable> actions);
    }

    private <T> void locked(T subject, List<Runnable> actions, LockedStep<T> step) {
        synchronized (this) {
            step.run(this, subject, actions);
            dispatch(actions);
        }
        actions.forEach(Runnable::run);
    }

    /** {@link PoolDialer}, lock held: a new backend, idle until the dispatch that follows hands it on. */
    void admit(BackendConnection backend) {
        opening--;
        idle.addNew(backend);
    }

    /**
     * {@link PoolDialer}, lock held: an open failed, and its slot is free. Retry while someone waits or min_size
     * is short; a {@code permanent} failure instead refuses every waiter (into {@code refused}).
     */
    boolean openFailed(boolean permanent, List<PoolWaiter> refused) {
        opening--;
        total--;
        if (permanent) {
            refused.addAll(waiters.drain());
            return false;
        }
        return !waiters.isEmpty() || (keepsMinSize() && total < settings.minSize());
    }

    private boolean keepsMinSize() {
        return !minSizeHeld && retiredBecause == null;
    }

    /** Lock held: the backend no longer counts against max_size. */
    void forget(BackendConnection backend) {
        if (backend.uncount()) {
            total--;
        }
    }

    private void openOne(EventLoop loop, List<Runnable> actions) {
        total++;
        opening++;
        actions.add(() -> dialer.open(loop));
    }

    /** Pairs idle backends with waiters, then opens as many as the remaining waiters need and min_size asks for. */
    private void dispatch(List<Runnable> actions) {
        exhaustion.noteNow(total, settings.maxSize(), waiters.size());
        while (!paused && !waiters.isEmpty() && !idle.isEmpty()) {
            BackendConnection backend = idle.pollNewest();
            if (idle.usableNow(backend, actions)) {
                PoolWaiter waiter = waiters.takeWaiterFor(backend.eventLoop());
                backend.toLinked(null);
                actions.add(WaitQueue.handOff(waiter, backend));
            }
        }
        if (retiredBecause != null) {
            idle.closeAll(retiredBecause, actions);
        } else if (minSizeHeld) {
            // A backend still being reset when the DROP arrived comes back afterwards: PostgreSQL waits up to 5 s
            // for the database's other sessions to go, so closing it now lets the DROP succeed.
            idle.closeAll("its database is being dropped", actions);
        }
        if (dialer.retryPending()) {
            return;
        }
        // The first `opening` waiters are covered by backends on their way.
        if (total < settings.maxSize()) {
            // Not when the pool is full, as it is under load at every release: no iterator for nothing.
            Iterator<PoolWaiter> unserved = waiters.from(opening);
            while (unserved.hasNext() && total < settings.maxSize()) {
                openOne(unserved.next().eventLoop(), actions);
            }
        }
        while (keepsMinSize() && total < settings.minSize() && dialer.mayOpenUnasked()) {
            openOne(backgroundLoops.next(), actions);
        }
    }
}
