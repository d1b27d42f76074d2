package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgwarden.net.Cumulation;
import io.pgwarden.protocol.Frames;
import java.util.List;

/**
 * Cuts PostgreSQL's byte stream into whole typed messages, each a retained slice with its 5-byte header; runs of
 * DataRow or CopyData messages come as one slice (see {@link Frames#readRun}), which the session routes as one.
 */
public final class MessageFrameDecoder extends ByteToMessageDecoder {

    /** Big enough that a result or COPY is forwarded in a few slices per read, small enough for backpressure. */
    private static final int MAX_RUN_BYTES = 64 * 1024;

    private final int maxMessageLength;

    public MessageFrameDecoder(int maxMessageLength) {
        this.maxMessageLength = maxMessageLength;
        setCumulator(Cumulation.COMPACTING);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        ByteBuf message;
        while ((message = Frames.readRun(in, maxMessageLength, MAX_RUN_BYTES)) != null) {
            out.add(message);
        }
    }
}
