package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.pgwarden.config.ServerTlsSettings;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.tls.ServerTls;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Asks PostgreSQL for TLS (SSLRequest) before the startup packet and, on 'S', puts the TLS handler at the front of
 * the pipeline. Until it is done it holds every event back from the login, which must not see a half-set-up
 * connection; it leaves the pipeline once the connection is encrypted or known to stay plain.
 */
final class TlsNegotiation extends ChannelInboundHandlerAdapter {

    private static final int SSL_REQUEST_CODE = 80877103;

    private final ServerTls tls;
    private final ServerTlsSettings settings;
    private final String host;
    private final int port;
    /** The server's certificate once encrypted, null when the connection stays plain. */
    private final CompletableFuture<X509Certificate> result = new CompletableFuture<>();
    private boolean answered;

    TlsNegotiation(ServerTls tls, ServerTlsSettings settings, String host, int port) {
        this.tls = tls;
        this.settings = settings;
        this.host = host;
        this.port = port;
    }

    /**
     * Completes with the server's certificate, or null when the server has no TLS and the mode allows plain text;
     * fails with a {@link BackendLoginException}.
     */
    CompletableFuture<X509Certificate> start(Channel channel) {
        channel.pipeline().addFirst("tls-negotiation", this);
        ByteBuf request = channel.alloc().buffer(8);
        request.writeInt(8).writeInt(SSL_REQUEST_CODE);
        channel.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                fail("could not send the SSL request: " + f.cause().getMessage(), false);
            }
        });
        return result;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            if (answered) {
                // Before the login starts, an encrypted PostgreSQL has nothing to say.
                fail("PostgreSQL sent data before the login started", false);
                return;
            }
            answered = true;
            byte answer = in.readByte();
            if (answer == 'S' && in.isReadable()) {
                // Bytes after 'S' came before the encryption and could have been injected (CVE-2021-23222).
                fail("received unencrypted data after SSL response", true);
            } else if (answer == 'S') {
                encrypt(ctx);
            } else if (answer == 'N') {
                if (settings.mode().requiresTls()) {
                    fail("server does not support SSL, but SSL was required (server.tls.mode is "
                            + settings.mode().spelling() + ")", true);
                } else {
                    ctx.pipeline().remove(this);
                    result.complete(null);
                }
            } else if (answer == 'E') {
                fail("server does not support SSL: it answered the SSL request with an error", true);
            } else {
                fail("received invalid response to SSL negotiation: " + (char) answer, false);
            }
        } finally {
            in.release();
        }
    }

    private void encrypt(ChannelHandlerContext ctx) {
        SslHandler handler;
        try {
            handler = tls.newHandler(ctx.alloc(), settings, host, port);
        } catch (SSLException | RuntimeException e) {
            fail(e.getMessage(), true);
            return;
        }
        // server.connect_timeout bounds the handshake together with the login; Netty's own 10 s would cut a longer one.
        handler.setHandshakeTimeoutMillis(0);
        handler.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                fail(ServerTls.reason(f.cause()), ServerTls.isCertificateRefusal(f.cause()));
                return;
            }
            X509Certificate certificate;
            try {
                Certificate[] chain = handler.engine().getSession().getPeerCertificates();
                certificate = (X509Certificate) chain[0];
            } catch (SSLPeerUnverifiedException | ClassCastException e) {
                fail("the server sent no usable certificate", true);
                return;
            }
            if (ctx.pipeline().context(this) != null) {
                ctx.pipeline().remove(this);
            }
            result.complete(certificate);
        });
        ctx.pipeline().addFirst("tls", handler);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (io.pgwarden.net.FatalErrorGuard.isFatal(cause)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        // The handshake's own failure arrives here as well as on its future; the first one to come names it.
        fail(ServerTls.reason(cause), ServerTls.isCertificateRefusal(cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail("PostgreSQL closed the connection during the TLS negotiation", false);
        ctx.fireChannelInactive();
    }

    /** @param permanent whether trying again would meet the same refusal (a certificate, a server without TLS) */
    private void fail(String reason, boolean permanent) {
        result.completeExceptionally(new BackendLoginException(ErrorResponse.fatal("08001",
                "TLS to " + host + ":" + port + ": " + reason), permanent));
    }
}
