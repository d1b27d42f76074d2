package io.pgwarden.backend;

import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;

/**
 * How a pool gets a new logged-in backend. {@link BackendConnector} opens one over TCP; the pool needs nothing
 * more than this, so it can be run against other backends (the in-process test harness scripts them).
 */
@FunctionalInterface
public interface BackendOpener {

    /** Completes on {@code loop} with a logged-in backend or a {@link BackendLoginException}. */
    CompletableFuture<BackendConnection> connect(EventLoop loop, BackendConnector.Target target);
}
