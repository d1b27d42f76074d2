package io.pgwarden.net;

import io.netty.buffer.ByteBuf;

/** The next bytes of the message a {@link MessageHead} began, as a retained slice; {@code last} ends it. */
public record MessageChunk(ByteBuf content, boolean last) {
}
