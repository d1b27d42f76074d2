package io.pgwarden.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ListenTls;
import io.pgwarden.log.LogValues;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS that clients get ({@code listen.tls}): the certificate in force and the settings it was built with. A
 * RELOAD builds the next one completely (files read, key matched to the certificate) before it replaces this one,
 * so a broken rotation leaves the working certificate in place; handshakes already under way keep theirs.
 */
public final class ListenerTls {

    private static final Logger log = LoggerFactory.getLogger(ListenerTls.class);
    /** The ALPN name PostgreSQL 17 registers and libpq's direct TLS requires. */
    public static final String ALPN = "postgresql";

    static {
        // The JDK serves a TLS 1.2 client's renegotiation unless told not to, and reads this once, at its first
        // server handshake. PostgreSQL and BoringSSL refuse it: it costs the server a full handshake on demand.
        if (System.getProperty("jdk.tls.rejectClientInitiatedRenegotiation") == null) {
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        }
    }

    /** A certificate read and ready, not yet in force. */
    public static final class Prepared {
        private final ListenTls settings;
        private final SslContext context;
        private final X509Certificate certificate;
        private final SslProvider provider;

        private Prepared(ListenTls settings, SslContext context, X509Certificate certificate, SslProvider provider) {
            this.settings = settings;
            this.context = context;
            this.certificate = certificate;
            this.provider = provider;
        }
    }

    private final AtomicReference<Prepared> current;

    private ListenerTls(Prepared first) {
        this.current = new AtomicReference<>(first);
    }

    /** No TLS: every SSLRequest is answered 'N'. */
    public static ListenerTls disabled() {
        return new ListenerTls(new Prepared(ListenTls.disabled(), null, null, null));
    }

    public static ListenerTls load(ListenTls settings) throws ConfigException {
        ListenerTls tls = new ListenerTls(prepare(settings));
        tls.logInForce("start");
        return tls;
    }

    /** Reads the files {@code settings} names; nothing changes until {@link #install}. */
    public static Prepared prepare(ListenTls settings) throws ConfigException {
        if (!settings.enabled()) {
            return new Prepared(settings, null, null, null);
        }
        List<X509Certificate> chain = TlsFiles.certificates(settings.certFile(), "listen.tls.cert_file");
        PrivateKey key = TlsFiles.privateKey(settings.keyFile(), "listen.tls.key_file");
        // Files rotated one at a time (a copy, not an atomic Secret update) may pair the new key with the old
        // certificate for a moment; every handshake would then fail, so such a pair is refused here.
        if (!TlsFiles.belongTogether(key, chain.get(0))) {
            throw TlsFiles.problem("listen.tls.key_file", settings.keyFile() + " is not the private key of the "
                    + "certificate in " + settings.certFile());
        }
        SslProvider provider = provider(settings.provider());
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
                    .sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            // As PostgreSQL: a client offering other protocols only gets no_application_protocol.
                            // BoringSSL through Netty cannot send that alert; it leaves ALPN out instead.
                            provider == SslProvider.JDK
                                    ? ApplicationProtocolConfig.SelectorFailureBehavior.FATAL_ALERT
                                    : ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ALPN));
            if (settings.clientCert() == ListenTls.ClientCert.VERIFY) {
                List<X509Certificate> cas = TlsFiles.certificates(settings.caFile(), "listen.tls.ca_file");
                builder.trustManager(cas.toArray(X509Certificate[]::new)).clientAuth(ClientAuth.REQUIRE);
            }
            return new Prepared(settings, builder.build(), chain.get(0), provider);
        } catch (SSLException | IllegalArgumentException e) {
            // Most often a key that does not belong to the certificate.
            throw TlsFiles.problem("listen.tls", "cannot use " + settings.certFile() + " with "
                    + settings.keyFile() + ": " + e.getMessage());
        }
    }

    /** From now on new handshakes use {@code next}. */
    public void install(Prepared next) {
        current.set(next);
        logInForce("reload");
    }

    public ListenTls settings() {
        return current.get().settings;
    }

    /**
     * A handler for one new TLS connection, with the certificate in force now.
     *
     * @param handshakeTimeoutMillis the client's login timeout: a stalled handshake holds a pending-login slot
     */
    public SslHandler newHandler(ByteBufAllocator alloc, long handshakeTimeoutMillis) {
        SslContext context = current.get().context;
        if (context == null) {
            throw new IllegalStateException("listen.tls is disabled");
        }
        SslHandler handler = context.newHandler(alloc);
        handler.setHandshakeTimeout(handshakeTimeoutMillis, TimeUnit.MILLISECONDS);
        return handler;
    }

    private static SslProvider provider(ListenTls.Provider wanted) {
        if (wanted == ListenTls.Provider.OPENSSL) {
            if (OpenSsl.isAvailable()) {
                return SslProvider.OPENSSL;
            }
            log.warn("event=tls_provider wanted=openssl using=jdk reason={}",
                    LogValues.quote(String.valueOf(OpenSsl.unavailabilityCause())));
        }
        return SslProvider.JDK;
    }

    private void logInForce(String when) {
        Prepared in = current.get();
        if (in.certificate == null) {
            log.info("event=listen_tls when={} mode=disable", when);
            return;
        }
        log.info("event=listen_tls when={} mode={} provider={} subject={} serial={} not_after={} client_cert={}",
                when, in.settings.mode().name().toLowerCase(), in.provider.name().toLowerCase(),
                LogValues.quote(in.certificate.getSubjectX500Principal().getName()),
                in.certificate.getSerialNumber().toString(16), in.certificate.getNotAfter().toInstant(),
                in.settings.clientCert().name().toLowerCase());
    }
}
