package io.pgwarden.pool;

import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.ErrorResponse;

/** A client waiting for a backend. Both callbacks run on {@link #eventLoop()}. */
public interface PoolWaiter {

    EventLoop eventLoop();

    /** When this waiter began to wait (System.nanoTime()), so the pool can tell its longest wait in O(1). */
    long waitingSinceNanos();

    /** The backend is now this waiter's; it must hand it back with release or discard. */
    void onBackendAcquired(BackendConnection backend);

    /** No backend can be had: PostgreSQL refused the login for a reason that retrying will not fix. */
    void onAcquireFailed(ErrorResponse error);
}
