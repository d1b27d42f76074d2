package io.pgwarden.config;

import java.util.Objects;

/**
 * TLS for clients ({@code listen.tls}). The files are named here and read by the proxy, at start and at every
 * RELOAD, so that a certificate rotated in place is picked up without a restart.
 *
 * @param certFile PEM: the server certificate first, then any intermediates; null when mode is disable
 * @param keyFile PEM: the private key, PKCS#8 or PKCS#1 (RSA), unencrypted; null when mode is disable
 * @param caFile PEM: the CAs client certificates must chain to; null unless clientCert is VERIFY
 * @param provider which TLS implementation the proxy asks for first
 */
public record ListenTls(Mode mode, String certFile, String keyFile, String caFile, ClientCert clientCert,
                        Provider provider) {

    public enum Mode {
        /** SSLRequest is answered 'N', as PostgreSQL with ssl=off. */
        DISABLE,
        /** TLS when the client asks for it, plain text otherwise. */
        ALLOW,
        /** A client that does not negotiate TLS is refused (28000). */
        REQUIRE
    }

    public enum ClientCert {
        /** Clients are not asked for a certificate. */
        NONE,
        /** Every TLS client must present a certificate that chains to caFile. */
        VERIFY
    }

    public enum Provider {
        /** The JDK's SSLEngine. */
        JDK,
        /** BoringSSL through netty-tcnative, falling back to the JDK where it cannot load. */
        OPENSSL
    }

    private static final ListenTls DISABLED = new ListenTls(Mode.DISABLE, null, null, null, ClientCert.NONE,
            Provider.OPENSSL);

    public ListenTls {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(clientCert, "clientCert");
        Objects.requireNonNull(provider, "provider");
        if (mode != Mode.DISABLE && (certFile == null || keyFile == null)) {
            throw new IllegalArgumentException("TLS needs a certificate and a key");
        }
        if (clientCert == ClientCert.VERIFY && caFile == null) {
            throw new IllegalArgumentException("verifying client certificates needs a CA file");
        }
    }

    /** The default: no TLS, SSLRequest answered 'N'. */
    public static ListenTls disabled() {
        return DISABLED;
    }

    public boolean enabled() {
        return mode != Mode.DISABLE;
    }
}
