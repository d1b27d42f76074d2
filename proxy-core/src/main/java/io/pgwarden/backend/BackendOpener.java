package io.pgwarden.backend;

import io.netty.channel.EventLoop;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * How a pool gets a new logged-in backend. {@link BackendConnector} opens one over TCP; the pool needs nothing
 * more than this, so it can be run against other backends (the in-process test harness scripts them).
 */
@FunctionalInterface
public interface BackendOpener {

    /** Completes on {@code loop} with a logged-in backend or a {@link BackendLoginException}. */
    CompletableFuture<BackendConnection> connect(EventLoop loop, BackendConnector.Target target);

    /**
     * Why a login to {@code target} cannot be made before a client of it has logged in (SCRAM pass-through
     * with no ClientKey yet), so that min_size waits for that client instead of failing; empty when it can.
     */
    default Optional<String> whyNotUnasked(BackendConnector.Target target) {
        return Optional.empty();
    }
}
