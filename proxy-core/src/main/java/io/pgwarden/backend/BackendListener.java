package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;

/**
 * Whoever currently owns a backend's traffic: its login, a client session, the reset before reuse,
 * or the pool while it sits idle. Called on the backend's event loop.
 */
public interface BackendListener {

    /** Takes ownership of {@code message}: forward it or release it. */
    void onBackendMessage(BackendConnection backend, ByteBuf message);

    default void onBackendReadComplete(BackendConnection backend) {
    }

    default void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
    }

    void onBackendClosed(BackendConnection backend, String reason);
}
