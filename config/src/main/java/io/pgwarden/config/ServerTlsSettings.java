package io.pgwarden.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS on the connections to PostgreSQL ({@code server.tls}).
 *
 * @param mode when to use TLS and what to check, as libpq's sslmode
 * @param caFile PEM certificates of the CAs trusted to sign the server's certificate, or null: verify-ca and
 *        verify-full then trust the JVM's default CAs, and the other modes check nothing (as libpq without a root
 *        certificate)
 * @param certFile PEM certificate (and chain) shown to the server for its {@code cert} authentication, or null
 * @param keyFile the PEM private key of {@code certFile}; set exactly when it is
 * @param serverName sent as SNI and checked against the certificate instead of the configured host, or null: needed
 *        when the host is an IP address that the certificate does not list
 * @param provider which TLS implementation is asked for first
 */
public record ServerTlsSettings(ServerTlsMode mode, Path caFile, Path certFile, Path keyFile, String serverName,
                                Provider provider) {

    private static final ServerTlsSettings DEFAULTS =
            new ServerTlsSettings(ServerTlsMode.PREFER, null, null, null, null, Provider.JDK);

    /** The JDK's SSLEngine, always there; or OpenSSL (BoringSSL via netty-tcnative), where its library loads. */
    public enum Provider {
        JDK,
        OPENSSL
    }

    public ServerTlsSettings {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(provider, "provider");
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("certFile and keyFile go together");
        }
    }

    /** prefer, with nothing to check and no client certificate: libpq's default. */
    public static ServerTlsSettings defaults() {
        return DEFAULTS;
    }

    /** libpq: a given root certificate is checked in every mode that uses TLS, so require acts as verify-ca. */
    public boolean verifiesChain() {
        return caFile != null || mode == ServerTlsMode.VERIFY_CA || mode == ServerTlsMode.VERIFY_FULL;
    }

    public boolean verifiesHostName() {
        return mode == ServerTlsMode.VERIFY_FULL;
    }
}
