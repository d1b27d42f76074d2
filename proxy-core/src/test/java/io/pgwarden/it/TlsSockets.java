package io.pgwarden.it;

import io.pgwarden.tls.TestCertificates;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** JDK TLS sockets to the proxy, both ways PostgreSQL clients start TLS: after an SSLRequest, and directly. */
final class TlsSockets {

    static final byte[] SSL_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};

    private TlsSockets() {
    }

    /** Trusts only {@code ca}; presents {@code client} when it is not null. */
    static SSLContext context(X509Certificate ca, TestCertificates.Issued client) throws GeneralSecurityException,
            IOException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (client != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", client.keys().getPrivate(), new char[0],
                    new Certificate[] {client.certificate()});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    static Socket plain(int port) throws IOException {
        Socket socket = new Socket();
        // As libpq and pgjdbc: without it, the handshake's small records wait on delayed ACKs.
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Sends SSLRequest; returns the one-byte answer ('S' or 'N'). */
    static char sslRequest(Socket socket) throws IOException {
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.write(SSL_REQUEST);
        out.flush();
        return (char) new DataInputStream(socket.getInputStream()).readByte();
    }

    /** SSLRequest, 'S', then a verified handshake (host name checked) offering {@code alpn}, if any. */
    static SSLSocket afterSslRequest(int port, SSLContext context, String... alpn) throws IOException {
        Socket socket = plain(port);
        char answer = sslRequest(socket);
        if (answer != 'S') {
            socket.close();
            throw new IOException("SSLRequest answered '" + answer + "'");
        }
        return handshake((SSLSocket) context.getSocketFactory().createSocket(socket, "127.0.0.1", port, true), alpn);
    }

    /** PostgreSQL 17's direct TLS: the ClientHello is the first thing sent. */
    static SSLSocket direct(int port, SSLContext context, String... alpn) throws IOException {
        return handshake((SSLSocket) context.getSocketFactory().createSocket(plain(port), "127.0.0.1", port, true),
                alpn);
    }

    private static SSLSocket handshake(SSLSocket socket, String... alpn) throws IOException {
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (alpn.length > 0) {
            parameters.setApplicationProtocols(alpn);
        }
        socket.setSSLParameters(parameters);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    /** Logs in as {@link TestProxy}'s cleartext user over an established socket. */
    static RawClient login(Socket socket) throws IOException {
        return new RawClient(socket, 10_000, "trust-secret", "user", "trustuser", "database", "appdb");
    }
}
