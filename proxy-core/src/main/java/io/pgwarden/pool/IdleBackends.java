package io.pgwarden.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.backend.LossReason;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.metrics.ProxyMetrics;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The idle backends of one pool, and their upkeep. They are reused newest first, so the busy set stays warm and
 * the rest can age out. Past their lifetime, or opened before the last RECONNECT, they close; idle longer than
 * check_delay they are checked before a client gets them, and every health_check_interval in the background; idle
 * longer than idle_timeout they close while the pool is above min_size. Guarded by the pool's lock: closes and
 * checks are queued as actions, which the pool runs outside it.
 */
final class IdleBackends {

    private final BackendPool pool;
    private final ProxyMetrics metrics;
    private final BackendListener listener = new IdleListener();
    /** Oldest first. */
    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    /** Backends opened before the last RECONNECT are replaced as soon as they are idle. */
    private volatile int generation;
    /** Taken out of the list for a check; still counted by the pool. */
    private int beingChecked;

    IdleBackends(BackendPool pool, ProxyMetrics metrics) {
        this.pool = pool;
        this.metrics = metrics;
    }

    boolean isEmpty() {
        return idle.isEmpty();
    }

    int size() {
        return idle.size();
    }

    int beingChecked() {
        return beingChecked;
    }

    List<BackendConnection> snapshot() {
        return new ArrayList<>(idle);
    }

    /** RECONNECT: every backend open now is replaced once idle. */
    void renewAll() {
        generation++;
    }

    /** Just logged in: of the current generation, and known good. */
    void addNew(BackendConnection backend) {
        backend.setGeneration(generation);
        backend.markVerified();
        add(backend);
    }

    void add(BackendConnection backend) {
        backend.toIdle(listener);
        idle.addLast(backend);
    }

    boolean remove(BackendConnection backend) {
        return idle.remove(backend);
    }

    BackendConnection pollNewest() {
        return idle.pollLast();
    }

    /**
     * The newest idle backend on the waiter's own event loop if there is one, else the newest of all:
     * a backend on the client's loop relays without a thread hop per message.
     */
    BackendConnection takeIdleFor(EventLoop loop) {
        BackendConnection newest = idle.peekLast();
        if (newest == null || newest.eventLoop() == loop) {
            // The common case, one event loop or a warm backend on the client's: no iterator per transaction.
            return idle.pollLast();
        }
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

    /**
     * Past its lifetime, opened before the last RECONNECT, or retired because its server no longer fits the
     * database (a primary demoted): replaced rather than reused.
     */
    boolean expired(BackendConnection backend) {
        return backend.ageNanos() > backend.lifetimeNanos() || backend.generation() != generation
                || backend.liveRole().retiredBecause() != null;
    }

    String expiryReason(BackendConnection backend) {
        String retired = backend.liveRole().retiredBecause();
        return retired != null ? retired : backend.generation() != generation ? "replaced by RECONNECT"
                : "lifetime " + pool.settings().server().lifetime() + " reached";
    }

    /** Retirement is no age limit: it is logged and counted as pgwarden's own close. */
    static LossReason expiryLoss(BackendConnection backend) {
        return backend.liveRole().retiredBecause() != null ? LossReason.CLOSED_BY_PGWARDEN
                : LossReason.LIFETIME_EXPIRED;
    }

    /**
     * Whether a backend just taken out of the list may go to a client at once. One idle longer than check_delay
     * is checked first (and comes back through {@link BackendPool#afterCheck}); an expired or dead one is dropped.
     */
    boolean usableNow(BackendConnection backend, List<Runnable> actions) {
        if (!backend.isUsable()) {
            pool.forget(backend);
        } else if (expired(backend)) {
            close(backend, expiryLoss(backend), expiryReason(backend), actions);
        } else if (System.nanoTime() - backend.verifiedAtNanos() >= pool.settings().server().checkDelay().toNanos()) {
            startCheck(backend, actions);
        } else {
            return true;
        }
        return false;
    }

    /** The janitor's round: closes what expired or idled out (keeping min_size), checks what went unverified. */
    void sweep(long nowNanos, List<Runnable> actions) {
        PoolSettings settings = pool.settings();
        long idleTimeout = settings.server().idleTimeout().toNanos();
        long checkInterval = settings.server().healthCheckInterval().toNanos();
        for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
            BackendConnection backend = it.next();
            long idleFor = nowNanos - backend.verifiedAtNanos();
            if (expired(backend)) {
                it.remove();
                close(backend, expiryLoss(backend), expiryReason(backend), actions);
            } else if (idleTimeout > 0 && idleFor > idleTimeout && pool.size() > settings.minSize()) {
                it.remove();
                close(backend, LossReason.IDLE_TIMEOUT, "idle longer than idle_timeout", actions);
            } else if (idleFor >= checkInterval) {
                it.remove();
                startCheck(backend, actions);
            }
        }
    }

    void closeAll(String reason, List<Runnable> actions) {
        while (!idle.isEmpty()) {
            close(idle.pollFirst(), LossReason.CLOSED_BY_PGWARDEN, reason, actions);
        }
    }

    /** A check's verdict is in, and the pool takes the backend back. */
    void checkDone() {
        beingChecked--;
    }

    private void close(BackendConnection backend, LossReason reason, String detail, List<Runnable> actions) {
        pool.forget(backend);
        actions.add(() -> backend.close(reason, detail));
    }

    private void startCheck(BackendConnection backend, List<Runnable> actions) {
        beingChecked++;
        actions.add(() -> HealthCheck.run(backend, pool.settings().server(), metrics,
                healthy -> pool.afterCheck(backend, healthy)));
    }

    /** Anything an idle backend says, or its death, takes it out of the pool. */
    private final class IdleListener implements BackendListener {
        @Override
        public void onBackendMessage(BackendConnection backend, ByteBuf message) {
            message.release();
            // An idle backend has no business talking (PostgreSQL sends FATAL before it terminates a session).
            pool.discard(backend, "server sent a message while idle");
        }

        @Override
        public void onBackendClosed(BackendConnection backend, String reason) {
            pool.discard(backend, reason);
        }
    }
}
