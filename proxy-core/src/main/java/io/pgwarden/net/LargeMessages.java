package io.pgwarden.net;

/**
 * Where a message stops being buffered whole and is relayed as it arrives (a {@link MessageHead} or partial
 * head, then {@link MessageChunk}s), in either direction.
 */
public final class LargeMessages {

    /** Bodies longer than this are relayed as they arrive. */
    public static final int STREAM_ABOVE = 1 << 20;
    /** How much of a client's streamed body its head carries: all that classifying a statement may look at. */
    public static final int STREAM_PREFIX = 64 << 10;

    private LargeMessages() {
    }
}
