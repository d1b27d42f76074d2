package io.pgwarden.auth;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolWaiter;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.Tags;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run of auth.query for one user name, on a backend of the auth user's pool: it waits for a backend as a
 * client's query does (the pool retries the connect with backoff while it waits), and a backend lost before the
 * answer came is replaced, until {@code query_wait_timeout}. The name is a bound parameter, never part of the SQL.
 * The pool calls back on {@link #eventLoop()}, the backend on its own loop: the state is guarded by this object.
 */
final class AuthQuery implements PoolWaiter, BackendListener {

    /** How often the wait is looked at: for its deadline, and for an unreachable server when a stand-in exists. */
    private static final long CHECK_MILLIS = 50;
    /** A query that got its backend just before the deadline is given this long to answer. */
    private static final long ANSWER_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** The query's rows as PostgreSQL sent them: null when it returned none. */
    record Answer(List<String> firstRow, ErrorResponse error) {
    }

    private final BackendPool pool;
    private final EventLoop loop;
    private final String sql;
    private final String userName;
    private final long waitNanos;
    private final boolean standInExists;
    private final CompletableFuture<Answer> result = new CompletableFuture<>();
    private long waitStart;
    private ScheduledFuture<?> checks;
    private BackendConnection backend;
    private List<String> firstRow;
    private ErrorResponse queryError;
    private boolean done;

    private AuthQuery(BackendPool pool, EventLoop loop, String sql, String userName, Duration wait,
                      boolean standInExists) {
        this.pool = pool;
        this.loop = loop;
        this.sql = sql;
        this.userName = userName;
        this.waitNanos = wait.toNanos();
        this.standInExists = standInExists;
    }

    /**
     * Completes with the answer, or exceptionally with a {@link LookupFailure}.
     *
     * @param standInExists an expired answer could be used instead: give up as soon as a connect has failed
     */
    static CompletableFuture<Answer> run(BackendPool pool, EventLoop loop, String sql, String userName, Duration wait,
                                         boolean standInExists) {
        AuthQuery query = new AuthQuery(pool, loop, sql, userName, wait, standInExists);
        loop.execute(query::start);
        return query.result;
    }

    private synchronized void start() {
        waitStart = System.nanoTime();
        checks = loop.scheduleAtFixedRate(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
        acquire();
    }

    private void acquire() {
        BackendConnection ready = pool.acquire(this);
        if (ready != null) {
            onBackendAcquired(ready);
        }
    }

    private synchronized void check() {
        if (done) {
            return;
        }
        long waited = System.nanoTime() - waitStart;
        if (backend == null) {
            String lastError = pool.lastConnectError();
            boolean timedOut = waited > waitNanos;
            if ((timedOut || (standInExists && lastError != null)) && pool.cancelWait(this)) {
                fail(new LookupFailure("no server connection after waiting " + waited / 1_000_000
                        + " ms (query_wait_timeout " + waitNanos / 1_000_000 + " ms)", lastError, true));
            }
        } else if (waited > waitNanos + ANSWER_GRACE_NANOS) {
            BackendConnection b = backend;
            backend = null;
            pool.discard(b, "auth.query did not answer in time");
            fail(new LookupFailure("auth.query did not answer within " + (waitNanos + ANSWER_GRACE_NANOS) / 1_000_000
                    + " ms", null, true));
        }
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public long waitingSinceNanos() {
        return waitStart;
    }

    @Override
    public synchronized void onBackendAcquired(BackendConnection acquired) {
        if (done) {
            pool.release(acquired);
            return;
        }
        if (!acquired.isUsable()) {
            pool.discard(acquired, "server connection lost before use");
            acquire();
            return;
        }
        backend = acquired;
        firstRow = null;
        queryError = null;
        acquired.setListener(this);
        ByteBuf out = acquired.channel().alloc().buffer();
        FrontendMessages.parse(out, sql);
        FrontendMessages.bind(out, List.of(userName));
        FrontendMessages.execute(out, 0);
        FrontendMessages.sync(out);
        acquired.write(out);
        acquired.flush();
    }

    @Override
    public synchronized void onAcquireFailed(ErrorResponse error) {
        fail(new LookupFailure("PostgreSQL refused the login of auth.user", error.message(), false));
    }

    @Override
    public synchronized void onBackendMessage(BackendConnection from, ByteBuf message) {
        try {
            if (from != backend) {
                return;
            }
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.DATA_ROW && firstRow == null) {
                firstRow = ResultMessages.dataRowValues(message);
            } else if (tag == Tags.Backend.ERROR_RESPONSE && queryError == null) {
                queryError = ErrorResponse.decode(message);
            } else if (tag == Tags.Backend.READY_FOR_QUERY) {
                backend = null;
                if (Frames.readyForQueryStatus(message) == 'I') {
                    pool.release(from);
                } else {
                    pool.discard(from, "auth.query left a transaction open");
                }
                finish(new Answer(firstRow, queryError));
            }
        } finally {
            message.release();
        }
    }

    @Override
    public synchronized void onBackendClosed(BackendConnection from, String reason) {
        if (from != backend) {
            return;
        }
        backend = null;
        pool.discard(from, reason);
        if (!done) {
            // PostgreSQL went away under the query (a restart): the next backend, as a client's request would get.
            acquire();
        }
    }

    private void finish(Answer answer) {
        if (!done) {
            done = true;
            checks.cancel(false);
            result.complete(answer);
        }
    }

    private void fail(LookupFailure failure) {
        if (!done) {
            done = true;
            checks.cancel(false);
            result.completeExceptionally(failure);
        }
    }
}
