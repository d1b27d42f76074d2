package io.pgwarden.net;

import io.netty.buffer.ByteBuf;

/**
 * The start of a message too large to buffer whole: its 5-byte header (with the whole message's length) and the
 * first bytes of its body, as a retained slice. {@link MessageChunk}s with the rest follow it.
 */
public record MessageHead(ByteBuf message) {
}
