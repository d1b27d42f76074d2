package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import io.pgwarden.protocol.auth.TlsServerEndPoint;
import io.pgwarden.tls.ListenerTls;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/** TLS on one client connection: starting it in the pipeline, and what login needs to know of it afterwards. */
final class ClientTls {

    static final String HANDLER = "tls";
    static final String WATCHER = "tls-watch";
    /** Where TLS goes: in front of the frame decoder, which then reads decrypted bytes. */
    static final String BEFORE = "frames";

    private ClientTls() {
    }

    static boolean isUp(Channel channel) {
        return channel.pipeline().get(SslHandler.class) != null;
    }

    /** Answers an SSLRequest with 'S' in plain text, and decrypts everything after it. */
    static void startAfterSslRequest(Channel channel, ListenerTls tls, long handshakeTimeoutMillis) {
        ByteBuf answer = channel.alloc().buffer(1);
        answer.writeByte('S');
        // Written before the handler exists, so the 'S' leaves unencrypted; the client's ClientHello follows it.
        channel.writeAndFlush(answer, channel.voidPromise());
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addBefore(BEFORE, HANDLER, tls.newHandler(channel.alloc(), handshakeTimeoutMillis));
        pipeline.addAfter(HANDLER, WATCHER, new TlsHandshakeWatcher(false));
    }

    /**
     * The tls-server-end-point data for SCRAM-SHA-256-PLUS, from the certificate this connection's handshake
     * actually used (a RELOAD may have put another in force since); null without TLS or for a certificate whose
     * signature names no hash.
     */
    static byte[] channelBinding(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        Certificate[] local = ssl.engine().getSession().getLocalCertificates();
        if (local == null || local.length == 0 || !(local[0] instanceof X509Certificate certificate)) {
            return null;
        }
        return TlsServerEndPoint.of(certificate).orElse(null);
    }

    /** The client's verified certificate subject, for the login line; null when it presented none. */
    static String peerSubject(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] peer = ssl.engine().getSession().getPeerCertificates();
            return peer.length > 0 && peer[0] instanceof X509Certificate x509
                    ? x509.getSubjectX500Principal().getName() : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    /** The CN of the client's certificate, which the handshake verified; null when it presented none. */
    static String peerCommonName(Channel channel) {
        String subject = peerSubject(channel);
        if (subject == null) {
            return null;
        }
        try {
            for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(subject).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            return null;
        }
        return null;
    }
}
