package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.pgwarden.protocol.CancelRequest;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.session.CancelRouting;
import io.pgwarden.session.ProxyContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection to this process's own address in listen.peers, which takes one CancelRequest and nothing else. It is
 * what the peers forward to, and it stays open through a drain (unlike listen.port) so that a long query on a
 * draining process can still be cancelled from the process that took over the port.
 */
public final class PeerCancelHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(PeerCancelHandler.class);

    private final ProxyContext proxy;
    private boolean answered;

    public PeerCancelHandler(ProxyContext proxy) {
        this.proxy = proxy;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (answered) {
            ReferenceCountUtil.release(msg);
            return;
        }
        answered = true;
        if (msg instanceof CancelRequest cancel) {
            Future<Void> delivered = CancelRouting.route(proxy, cancel, ctx.channel().eventLoop());
            if (delivered == null) {
                ctx.close();
            } else {
                // Closed once PostgreSQL has acted: the forwarding peer passes that on to the client as delivery.
                delivered.addListener(f -> ctx.channel().eventLoop().execute(ctx::close));
            }
            return;
        }
        ReferenceCountUtil.release(msg);
        if (msg == FrontendFrameDecoder.TERMINATE_BEFORE_STARTUP) {
            ctx.close();
            return;
        }
        ByteBuf out = ctx.alloc().buffer();
        ErrorResponse.fatal("08P01", "this port takes cancel requests only")
                .withDetail("It is this pgwarden's address in listen.peers; clients connect to listen.port.")
                .encode(out);
        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("event=peer_cancel_error addr={} reason={}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
