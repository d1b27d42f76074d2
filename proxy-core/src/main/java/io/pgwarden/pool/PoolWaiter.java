package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.ErrorResponse;

/** A client waiting for a backend. Both callbacks run on {@link #eventLoop()}. */
public interface PoolWaiter {

    EventLoop eventLoop();

    /** {@link System#nanoTime()} when the wait began: the pool reads its oldest waiter's for the longest wait. */
    long waitingSinceNanos();

    /** The backend is now this waiter's; it must hand it back with release or discard. */
    void onBackendAcquired(BackendConnection backend);

    /** No backend can be had: PostgreSQL refused the login for a reason that retrying will not fix. */
    void onAcquireFailed(ErrorResponse error);
}
