package io.pgwarden.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * First in every io_uring socket's pipeline: once a close has been asked for, no read is started any more.
 *
 * <p>Netty 4.2.18's io_uring channel closes late when a write is still in flight: {@code close()} cancels the
 * socket's polls and reads at once, but the channel stays active until that write completes. A close asked for
 * during a read (a client sending plain text where its ClientHello belongs: the SslHandler fails the handshake,
 * writes its alert and closes) is followed by that read's channelReadComplete, and autoRead then asks for the next
 * read: with nothing cancelled any more and the channel still active, Netty arms a fresh POLLIN poll. The
 * -ECANCELED completion of the POLLRDHUP poll it had cancelled then clears its POLLIN bookkeeping too (it tests
 * the poll bits of a negative result), so the fresh poll is never cancelled. That poll holds the socket's file:
 * the IORING_OP_CLOSE removes the descriptor, but the socket stays ESTABLISHED, and the peer sees no FIN until it
 * sends something or pgwarden stops. Dropping reads after close keeps that poll from ever being armed.
 */
final class IoUringCloseGuard extends ChannelOutboundHandlerAdapter {

    static final String NAME = "io-uring-close-guard";

    private boolean closing;

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (!closing) {
            ctx.read();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        closing = true;
        ctx.close(promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
        // A socket channel's disconnect is its close.
        closing = true;
        ctx.disconnect(promise);
    }
}
