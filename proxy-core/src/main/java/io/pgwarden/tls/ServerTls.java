package io.pgwarden.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.NetUtil;
import io.pgwarden.config.ServerTlsSettings;
import io.pgwarden.log.LogValues;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS towards PostgreSQL: one client context per distinct {@code server.tls} section, loaded on first use and again
 * when one of its files changes, so a CA or client certificate replaced on disk is used by the next connect without
 * a restart. The JDK's SSLEngine by default; OpenSSL where asked for and its library loads.
 */
public final class ServerTls {

    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final Map<ServerTlsSettings, Loaded> contexts = new ConcurrentHashMap<>();

    private record Loaded(SslContext context, List<Object> stamps) {
    }

    /**
     * A handler that starts the handshake once in the pipeline, naming {@code host} (or server_name) for SNI and
     * for verify-full.
     *
     * @throws SSLException when a configured file cannot be loaded; the message names the file
     */
    public SslHandler newHandler(ByteBufAllocator alloc, ServerTlsSettings settings, String host, int port)
            throws SSLException {
        String peer = settings.serverName() != null ? settings.serverName() : host;
        SslHandler handler = context(settings).newHandler(alloc, peer, port);
        if (settings.serverName() != null && !NetUtil.isValidIpV4Address(peer) && !NetUtil.isValidIpV6Address(peer)) {
            SSLEngine engine = handler.engine();
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(peer)));
            engine.setSSLParameters(parameters);
        }
        return handler;
    }

    /**
     * Why a handshake failed, for the client, the log and /ready: the certificate check's own reason when it
     * refused, else the TLS layer's message.
     */
    public static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ServerCertificateException refused) {
                return refused.getMessage();
            }
        }
        Throwable innermost = failure;
        while (innermost.getCause() != null && innermost.getCause() != innermost) {
            innermost = innermost.getCause();
        }
        String message = innermost.getMessage() != null ? innermost.getMessage() : innermost.getClass().getSimpleName();
        return "TLS handshake failed: " + message;
    }

    /** True when the server's certificate itself was refused: trying again cannot help until someone changes it. */
    public static boolean isCertificateRefusal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ServerCertificateException) {
                return true;
            }
        }
        return false;
    }

    private SslContext context(ServerTlsSettings settings) throws SSLException {
        List<Object> stamps = stamps(settings);
        Loaded loaded = contexts.get(settings);
        if (loaded != null && loaded.stamps().equals(stamps)) {
            return loaded.context();
        }
        SslContext context = build(settings);
        contexts.put(settings, new Loaded(context, stamps));
        return context;
    }

    /** Modification time and size of each file, so a file replaced in place is noticed. */
    private static List<Object> stamps(ServerTlsSettings settings) {
        List<Object> stamps = new ArrayList<>();
        for (Path file : new Path[] {settings.caFile(), settings.certFile(), settings.keyFile()}) {
            if (file == null) {
                stamps.add("none");
                continue;
            }
            try {
                stamps.add(Files.getLastModifiedTime(file));
                stamps.add(Files.size(file));
            } catch (IOException e) {
                stamps.add("unreadable");
            }
        }
        return stamps;
    }

    private static SslContext build(ServerTlsSettings settings) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(provider(settings.provider()))
                .protocols(PROTOCOLS)
                // The host name is checked by ServerCertificateCheck, with libpq's rules and clearer messages.
                .endpointIdentificationAlgorithm(null)
                .trustManager(trustManager(settings));
        if (settings.certFile() != null) {
            try {
                builder.keyManager(settings.certFile().toFile(), settings.keyFile().toFile());
            } catch (IllegalArgumentException e) {
                throw new SSLException("could not load server.tls.cert_file '" + settings.certFile()
                        + "' with server.tls.key_file '" + settings.keyFile() + "' (PEM, the key unencrypted and "
                        + "in PKCS#8): " + e.getMessage(), e);
            }
        }
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new SSLException("could not set up TLS to PostgreSQL: " + e.getMessage(), e);
        }
    }

    private static SslProvider provider(ServerTlsSettings.Provider wanted) {
        if (wanted == ServerTlsSettings.Provider.OPENSSL) {
            if (OpenSsl.isAvailable()) {
                return SslProvider.OPENSSL;
            }
            log.warn("event=server_tls_provider wanted=openssl using=jdk reason={}",
                    LogValues.quote(String.valueOf(OpenSsl.unavailabilityCause())));
        }
        return SslProvider.JDK;
    }

    private static TrustManager trustManager(ServerTlsSettings settings) throws SSLException {
        if (!settings.verifiesChain()) {
            return new ServerCertificateCheck(null, "", false);
        }
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            String source;
            if (settings.caFile() == null) {
                factory.init((KeyStore) null);
                source = "the JVM's default trust store (server.tls.ca_file is not set)";
            } else {
                factory.init(caStore(settings.caFile()));
                source = "server.tls.ca_file '" + settings.caFile() + "'";
            }
            X509TrustManager pkix = null;
            for (TrustManager candidate : factory.getTrustManagers()) {
                if (candidate instanceof X509TrustManager x509) {
                    pkix = x509;
                }
            }
            return new ServerCertificateCheck(Objects.requireNonNull(pkix, "no X.509 trust manager"), source,
                    settings.verifiesHostName());
        } catch (GeneralSecurityException e) {
            throw new SSLException("could not load server.tls.ca_file '" + settings.caFile() + "': " + e.getMessage(),
                    e);
        }
    }

    private static KeyStore caStore(Path caFile) throws GeneralSecurityException, SSLException {
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(caFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (IOException e) {
            throw new SSLException("could not read server.tls.ca_file '" + caFile + "': " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new SSLException("server.tls.ca_file '" + caFile + "' holds no PEM certificate");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new SSLException(e);
        }
        int i = 0;
        for (Certificate certificate : certificates) {
            store.setCertificateEntry("ca-" + i++, certificate);
        }
        return store;
    }
}
