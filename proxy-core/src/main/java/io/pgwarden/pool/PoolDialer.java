package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.backend.BackendOpener;
import io.pgwarden.log.LogValues;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.protocol.ErrorResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the backends of one pool, and while PostgreSQL refuses, retries with backoff as long as a client waits or
 * min_size is short. Its state is guarded by the pool's monitor: whether a retry is pending decides what the
 * pool's dispatch may open, so both must be seen together.
 */
final class PoolDialer {

    /** BackendPool's, as before this was split out of it: log filters on that name keep working. */
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
    private static final long FIRST_RETRY_MILLIS = 100;
    /** Kept short so a restarted PostgreSQL is back in service within about a second of accepting connections. */
    private static final long MAX_RETRY_MILLIS = 1_000;
    private static final String MISSING_DATABASE = "3D000";

    private final BackendPool pool;
    private final BackendOpener opener;
    /** Replaced when the role's secret changes (a looked-up user's ALTER ROLE ... PASSWORD, a RELOAD). */
    private volatile BackendConnector.Target target;
    private final ProxyMetrics metrics;
    private int consecutiveFailures;
    private boolean retryScheduled;
    private String lastConnectError;
    private volatile Map<String, String> serverParameters;
    /** Whether the last min_size fill was deferred, so that its log line comes once, not on every dispatch. */
    private boolean unaskedDeferred;
    /** Told when PostgreSQL answers that the pool's database does not exist (3D000). */
    private volatile Runnable onDatabaseMissing = () -> { };

    PoolDialer(BackendPool pool, BackendOpener opener, BackendConnector.Target target, ProxyMetrics metrics) {
        this.pool = pool;
        this.opener = opener;
        this.target = target;
        this.metrics = metrics;
    }

    String dbname() {
        return target.database();
    }

    /** New backends log in with {@code password}; those open keep their session. */
    void usePassword(String password) {
        BackendConnector.Target current = target;
        if (!java.util.Objects.equals(current.password(), password)) {
            target = new BackendConnector.Target(current.host(), current.port(), current.database(), current.user(),
                    password, current.server(), current.startupParameters());
        }
    }

    void onDatabaseMissing(Runnable action) {
        onDatabaseMissing = action;
    }

    /** RELOAD changed the forced user's password: backends opened from now on use it. */
    void retarget(BackendConnector.Target next) {
        target = next;
    }

    /** Pool's lock held. While true, the pool opens nothing: the retry will. */
    boolean retryPending() {
        return retryScheduled;
    }

    /** Pool's lock held. */
    String lastConnectError() {
        return lastConnectError;
    }

    /** ParameterStatus values of the first backend that logged in, or null before any did. */
    Map<String, String> serverParameters() {
        return serverParameters;
    }

    /**
     * Pool's lock held: whether min_size or the readiness probe may open a backend no client asked for. Not by
     * SCRAM pass-through before a client of the user has logged in: it would fail, and the first client's login
     * makes it possible.
     */
    boolean mayOpenUnasked() {
        Optional<String> why = opener.whyNotUnasked(target);
        if (why.isPresent() && !unaskedDeferred) {
            log.info("event=pass_through_deferred pool={} reason={}", pool.key(),
                    LogValues.quote(why.get() + "; backends no client asked for (min_size, the readiness probe)"
                            + " open once one has"));
        }
        unaskedDeferred = why.isPresent();
        return why.isEmpty();
    }

    /** The pool has already counted this backend as opening; {@code loop} is the one it will live on. */
    void open(EventLoop loop) {
        opener.connect(loop, target).whenComplete((backend, error) -> {
            if (backend != null) {
                onOpened(backend);
            } else {
                onOpenFailed(loop, error);
            }
        });
    }

    CompletableFuture<BackendConnection> openUnpooled(EventLoop loop) {
        return opener.connect(loop, target);
    }

    private void onOpened(BackendConnection backend) {
        metrics.reconnectAttempt(pool.key().database(), true);
        backend.setLifetimeNanos(jitteredLifetime(pool.settings().server().lifetime()));
        pool.locked(actions -> {
            consecutiveFailures = 0;
            lastConnectError = null;
            if (serverParameters == null) {
                serverParameters = backend.parameters();
            }
            pool.admit(backend);
        });
    }

    private void onOpenFailed(EventLoop loop, Throwable error) {
        Throwable cause = error instanceof CompletionException ? error.getCause() : error;
        BackendLoginException failure = cause instanceof BackendLoginException e ? e
                : new BackendLoginException(ErrorResponse.fatal("08001", String.valueOf(cause)), false);
        metrics.reconnectAttempt(pool.key().database(), false);
        List<PoolWaiter> refused = new ArrayList<>(0);
        // No dispatch afterwards: it would open again at once, which is what the backoff is for.
        synchronized (pool) {
            consecutiveFailures++;
            lastConnectError = failure.error().message();
            // A permanent failure (a wrong password) would only earn the same answer again: waiters are told now.
            if (pool.openFailed(failure.permanent(), refused)) {
                retryScheduled = true;
                long delay = backoffMillis();
                log.info("event=server_retry pool={} delay_ms={} reason={}", pool.key(), delay,
                        LogValues.quote(lastConnectError));
                loop.schedule(this::retry, delay, TimeUnit.MILLISECONDS);
            }
        }
        for (PoolWaiter waiter : refused) {
            WaitQueue.onLoopOf(waiter, () -> waiter.onAcquireFailed(failure.error()));
        }
        if (MISSING_DATABASE.equals(failure.error().sqlstate())) {
            onDatabaseMissing.run();
        }
    }

    private void retry() {
        pool.locked(actions -> retryScheduled = false);
    }

    /** Exponential backoff with jitter so a restart of PostgreSQL is not met by every pool at once. */
    private long backoffMillis() {
        long base = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(consecutiveFailures - 1, 10));
        return base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    }

    /** Somewhere in the last fifth of the configured lifetime, so a pool opened at once does not expire at once. */
    private static long jitteredLifetime(Duration configured) {
        long lifetime = configured.toNanos();
        if (lifetime <= 0) {
            return Long.MAX_VALUE;
        }
        return lifetime - ThreadLocalRandom.current().nextLong(lifetime / 5 + 1);
    }
}
