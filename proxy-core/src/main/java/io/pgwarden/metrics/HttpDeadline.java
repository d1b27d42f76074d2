package io.pgwarden.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a monitoring connection that takes too long to send a request, or sits idle too long between requests.
 * It sees the raw bytes (it is first in the pipeline), so a request's clock starts at its first byte and cannot
 * be reset by dribbling more: a client sending a header a byte at a time is closed like one sending nothing.
 */
final class HttpDeadline extends ChannelInboundHandlerAdapter {

    private enum Phase { WAITING_FOR_REQUEST, READING_REQUEST, ANSWERING }

    private final long requestTimeoutNanos;
    private final long idleTimeoutNanos;
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.WAITING_FOR_REQUEST;
    private ScheduledFuture<?> timer;

    HttpDeadline(HttpLimits limits) {
        this.requestTimeoutNanos = limits.requestTimeout().toNanos();
        this.idleTimeoutNanos = limits.idleTimeout().toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // A fresh connection that sends nothing is as slow as one that sends half a request.
        arm(requestTimeoutNanos);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase == Phase.WAITING_FOR_REQUEST && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            phase = Phase.READING_REQUEST;
            arm(requestTimeoutNanos);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    /** Whether the connection is only waiting on its client, so closing it loses no answer. */
    boolean waitingOnClient() {
        return phase != Phase.ANSWERING;
    }

    /** A whole request arrived: no clock runs while it is answered. */
    void requestComplete() {
        phase = Phase.ANSWERING;
        cancel();
    }

    /** The answer is written and the connection stays open for another request. */
    void responseSent() {
        if (phase == Phase.ANSWERING && ctx.channel().isActive()) {
            phase = Phase.WAITING_FOR_REQUEST;
            arm(idleTimeoutNanos);
        }
    }

    private void arm(long nanos) {
        cancel();
        timer = ctx.executor().schedule(() -> {
            if (phase != Phase.ANSWERING) {
                ctx.close();
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
