package io.pgwarden.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Copies the small messages written to a channel between two flushes into one buffer, written as one at the
 * flush. A transaction's answer is four or five messages (RowDescription, DataRow, CommandComplete, ReadyForQuery)
 * and an extended-protocol request five (Parse, Bind, Describe, Execute, Sync), each a retained slice of a read
 * buffer: written one by one, each cost a trip down the pipeline, an outbound-buffer entry and an iovec, which
 * together were most of the proxy's own CPU per transaction. Copying a hundred bytes costs less than all that.
 *
 * <p>Order is kept: a message that is not copied (a large one, or one written with a promise that must report
 * its own outcome) goes out after what was gathered before it, and a close writes out what was gathered first,
 * as if it had been written directly. At most {@link #MAX_GATHERED} bytes wait here beyond what the channel's
 * writability counts, and nothing stays between flushes.
 */
public final class WriteCoalescer extends ChannelOutboundHandlerAdapter {

    /** Messages up to this size are copied; larger ones (rows, COPY data) go on as they are. */
    static final int MAX_COPIED = 512;
    /** Past this, what was gathered goes on and a new buffer begins. */
    static final int MAX_GATHERED = 8192;
    /** Enough for a typical answer to a transaction, so that the buffer seldom grows. */
    private static final int INITIAL = 512;

    private ByteBuf gathered;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf && promise.isVoid() && buf.readableBytes() <= MAX_COPIED) {
            int length = buf.readableBytes();
            if (gathered != null && gathered.writerIndex() + length > MAX_GATHERED) {
                writeGathered(ctx);
            }
            if (gathered == null) {
                gathered = ctx.alloc().directBuffer(Math.max(INITIAL, length), MAX_GATHERED);
            }
            try {
                gathered.writeBytes(buf, buf.readerIndex(), length);
            } finally {
                buf.release();
            }
            return;
        }
        writeGathered(ctx);
        ctx.write(msg, promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        writeGathered(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        writeGathered(ctx);
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // The channel is gone (or the handler taken out): unflushed writes are dropped, as Netty drops its own.
        if (gathered != null) {
            gathered.release();
            gathered = null;
        }
    }

    private void writeGathered(ChannelHandlerContext ctx) {
        ByteBuf out = gathered;
        if (out != null) {
            gathered = null;
            ctx.write(out, ctx.voidPromise());
        }
    }
}
