package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgwarden.net.Cumulation;
import io.pgwarden.net.LargeMessages;
import io.pgwarden.net.MessageChunk;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Cuts PostgreSQL's byte stream into whole typed messages, each a retained slice with its 5-byte header; runs of
 * DataRow or CopyData messages come as one slice (see {@link Frames#readRun}), which the session routes as one.
 * A DataRow or CopyData longer than {@link LargeMessages#STREAM_ABOVE}, when the connection's listener
 * takes chunks, comes as it arrives instead: a partial head (its header and what is here of its body) and then
 * {@link MessageChunk}s, so that a 300 MB row costs a read's worth of memory rather than 300 MB.
 */
public final class MessageFrameDecoder extends ByteToMessageDecoder {

    /** Big enough that a result or COPY is forwarded in a few slices per read, small enough for backpressure. */
    private static final int MAX_RUN_BYTES = 64 * 1024;

    private final int maxMessageLength;
    private final BooleanSupplier takesChunks;
    /** Bytes of the streamed message still to come; 0 between messages. */
    private long streamRemaining;

    public MessageFrameDecoder(int maxMessageLength) {
        this(maxMessageLength, () -> false);
    }

    public MessageFrameDecoder(int maxMessageLength, BooleanSupplier takesChunks) {
        this.maxMessageLength = maxMessageLength;
        this.takesChunks = takesChunks;
        setCumulator(Cumulation.COMPACTING);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (streamRemaining > 0) {
                int n = (int) Math.min(in.readableBytes(), streamRemaining);
                if (n == 0) {
                    return;
                }
                streamRemaining -= n;
                out.add(new MessageChunk(in.readRetainedSlice(n), streamRemaining == 0));
                continue;
            }
            if (startsLargeRow(in)) {
                // Frames checks the length against the limit before anything is relayed of it.
                Frames.readMessage(in.slice(in.readerIndex(), Frames.HEADER_LENGTH), maxMessageLength);
                long whole = 1L + in.getInt(in.readerIndex() + 1);
                if (in.readableBytes() < whole) {
                    int head = in.readableBytes();
                    streamRemaining = whole - head;
                    out.add(in.readRetainedSlice(head));
                    continue;
                }
            }
            ByteBuf message = Frames.readRun(in, maxMessageLength, MAX_RUN_BYTES);
            if (message == null) {
                return;
            }
            out.add(message);
        }
    }

    private boolean startsLargeRow(ByteBuf in) {
        if (in.readableBytes() < Frames.HEADER_LENGTH) {
            return false;
        }
        byte tag = in.getByte(in.readerIndex());
        return (tag == Tags.Backend.DATA_ROW || tag == Tags.Backend.COPY_DATA)
                && in.getInt(in.readerIndex() + 1) - 4 > LargeMessages.STREAM_ABOVE && takesChunks.getAsBoolean();
    }
}
