package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;

/**
 * Whoever currently owns a backend's traffic: its login, a client session, the reset before reuse,
 * or the pool while it sits idle. Called on the backend's event loop.
 */
public interface BackendListener {

    /** Takes ownership of {@code message}: forward it or release it. */
    void onBackendMessage(BackendConnection backend, ByteBuf message);

    /**
     * Whether a DataRow or CopyData too large to buffer may come as it arrives: its head (a partial message, see
     * {@link io.pgwarden.protocol.Frames#isPartial}) through {@link #onBackendMessage}, then its rest through
     * {@link #onBackendChunk}. Asked when such a message begins; the others read whole messages only.
     */
    default boolean takesChunks() {
        return false;
    }

    /** The next bytes of the message a partial head began; takes ownership. */
    default void onBackendChunk(BackendConnection backend, io.pgwarden.net.MessageChunk chunk) {
        chunk.content().release();
    }

    default void onBackendReadComplete(BackendConnection backend) {
    }

    default void onBackendWritabilityChanged(BackendConnection backend, boolean writable) {
    }

    void onBackendClosed(BackendConnection backend, String reason);
}
