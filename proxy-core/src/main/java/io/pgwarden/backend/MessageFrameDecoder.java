package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgwarden.protocol.Frames;
import java.util.List;

/** Cuts PostgreSQL's byte stream into whole typed messages, each a retained slice with its 5-byte header. */
public final class MessageFrameDecoder extends ByteToMessageDecoder {

    private final int maxMessageLength;

    public MessageFrameDecoder(int maxMessageLength) {
        this.maxMessageLength = maxMessageLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        ByteBuf message;
        while ((message = Frames.readMessage(in, maxMessageLength)) != null) {
            out.add(message);
        }
    }
}
