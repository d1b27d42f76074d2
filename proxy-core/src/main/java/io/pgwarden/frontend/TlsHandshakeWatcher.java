package io.pgwarden.frontend;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.pgwarden.log.LogValues;
import io.pgwarden.tls.ListenerTls;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits behind a client's SslHandler until its handshake is over. A failed handshake is logged once, with the
 * client's address and the TLS alert (the certificate and key never appear), and closes the connection. A direct
 * handshake must have agreed on ALPN {@code postgresql}, as PostgreSQL 17 requires. Until then nothing written can
 * reach the client in a form it reads, so a write (the login timeout's FATAL, say) closes the connection instead of
 * waiting for a handshake that may never end.
 */
final class TlsHandshakeWatcher extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(TlsHandshakeWatcher.class);

    private final boolean direct;
    private boolean failed;

    TlsHandshakeWatcher(boolean direct) {
        this.direct = direct;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!(evt instanceof SslHandshakeCompletionEvent done)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (!done.isSuccess()) {
            fail(ctx, describe(done.cause()));
            return;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (direct && !ListenerTls.ALPN.equals(ssl.applicationProtocol())) {
            // PostgreSQL: "received direct SSL connection request without ALPN protocol negotiation extension".
            fail(ctx, "direct TLS connection without ALPN protocol \"postgresql\"");
            return;
        }
        log.debug("event=tls_established addr={} direct={} protocol={} cipher={}", ctx.channel().remoteAddress(),
                direct, ssl.engine().getSession().getProtocol(), ssl.engine().getSession().getCipherSuite());
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (sslCause(cause) != null) {
            // The same failure as the completion event, which logs it; the frame decoder must not answer it.
            fail(ctx, describe(cause));
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ReferenceCountUtil.release(msg);
        if (!promise.isVoid()) {
            promise.tryFailure(new ClosedChannelException());
        }
        ctx.close();
    }

    private void fail(ChannelHandlerContext ctx, String reason) {
        if (!failed) {
            failed = true;
            log.info("event=tls_failed addr={} direct={} reason={}", ctx.channel().remoteAddress(), direct,
                    LogValues.quote(reason));
        }
        ctx.close();
    }

    private static String describe(Throwable cause) {
        Throwable ssl = sslCause(cause);
        if (ssl instanceof NotSslRecordException) {
            // Its message is a hex dump of what came, which may be anything the client meant to keep to itself.
            return "not a TLS record (plain text where the handshake belongs?)";
        }
        if (ssl == null && cause instanceof ClosedChannelException) {
            return "the client closed the connection during the handshake";
        }
        Throwable shown = ssl != null ? ssl : cause;
        return shown == null ? "unknown" : shown.getClass().getSimpleName() + ": " + shown.getMessage();
    }

    private static Throwable sslCause(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                return t;
            }
        }
        return null;
    }
}
