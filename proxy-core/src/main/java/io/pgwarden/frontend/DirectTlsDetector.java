package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgwarden.tls.ListenerTls;
import java.util.List;

/**
 * PostgreSQL 17's direct TLS (libpq {@code sslnegotiation=direct}): the client sends its ClientHello at once,
 * without an SSLRequest. Its first byte, 0x16 (a TLS handshake record), can never start a startup packet, whose
 * length field begins with 0. Looks at that one byte, then leaves the pipeline.
 */
public final class DirectTlsDetector extends ByteToMessageDecoder {

    private static final byte TLS_HANDSHAKE_RECORD = 0x16;

    private final ListenerTls tls;
    private final long handshakeTimeoutMillis;

    /** @param handshakeTimeoutMillis the login timeout, which a stalled handshake must not outlast */
    DirectTlsDetector(ListenerTls tls, long handshakeTimeoutMillis) {
        this.tls = tls;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
    }

    /** For a connection just accepted; null while listen.tls is disabled, which keeps today's pipeline. */
    public static DirectTlsDetector forNewConnection(FrontendContext context) {
        if (!context.tls().settings().enabled()) {
            return null;
        }
        return new DirectTlsDetector(context.tls(),
                context.proxy().config().defaults().client().loginTimeout().toMillis());
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return;
        }
        if (in.getByte(in.readerIndex()) != TLS_HANDSHAKE_RECORD || !tls.settings().enabled()) {
            // Removing hands what was read on to the frame decoder.
            ctx.pipeline().remove(this);
            return;
        }
        // The watcher first, so that it is in place when the ClientHello passed on by the replacement arrives.
        ctx.pipeline().addAfter(ctx.name(), ClientTls.WATCHER, new TlsHandshakeWatcher(true));
        ctx.pipeline().replace(this, ClientTls.HANDLER, tls.newHandler(ctx.alloc(), handshakeTimeoutMillis));
    }
}
