package io.pgwarden.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Date;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Decides whether PostgreSQL's certificate is accepted, as libpq's sslmode does, and says why not in words an
 * operator can act on. The checks run one by one (validity dates, then the chain, then the host name) instead of
 * leaving them to the JDK, whose single PKIX message does not tell an expired certificate from an unknown CA.
 */
final class ServerCertificateCheck extends X509ExtendedTrustManager {

    private final X509TrustManager chainCheck;
    private final String trustedCas;
    private final boolean checkHostName;

    /**
     * @param chainCheck the PKIX check against the trusted CAs, or null to accept any chain (require without a CA)
     * @param trustedCas where the trusted CAs come from, for the message
     */
    ServerCertificateCheck(X509TrustManager chainCheck, String trustedCas, boolean checkHostName) {
        this.chainCheck = chainCheck;
        this.trustedCas = trustedCas;
        this.checkHostName = checkHostName;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        check(chain, authType, engine == null ? null : engine.getPeerHost());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        check(chain, authType, socket == null || socket.getInetAddress() == null ? null
                : socket.getInetAddress().getHostAddress());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain, authType, null);
    }

    private void check(X509Certificate[] chain, String authType, String host) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new ServerCertificateException("no certificate: the server sent none");
        }
        X509Certificate leaf = chain[0];
        if (chainCheck != null) {
            checkDates(chain);
            try {
                chainCheck.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw new ServerCertificateException("unknown CA: the server certificate (subject \""
                        + leaf.getSubjectX500Principal().getName() + "\", issuer \""
                        + leaf.getIssuerX500Principal().getName() + "\") is not signed by a CA in " + trustedCas, e);
            }
        }
        if (checkHostName) {
            HostNameCheck.check(leaf, host);
        }
    }

    private static void checkDates(X509Certificate[] chain) throws ServerCertificateException {
        Date now = new Date();
        for (int i = 0; i < chain.length; i++) {
            X509Certificate certificate = chain[i];
            String which = i == 0 ? "the server certificate" : "the CA certificate";
            String subject = " (subject \"" + certificate.getSubjectX500Principal().getName() + "\")";
            try {
                certificate.checkValidity(now);
            } catch (CertificateExpiredException e) {
                throw new ServerCertificateException("certificate expired: " + which + subject + " expired on "
                        + certificate.getNotAfter().toInstant(), e);
            } catch (CertificateNotYetValidException e) {
                throw new ServerCertificateException("certificate not yet valid: " + which + subject
                        + " is valid from " + certificate.getNotBefore().toInstant()
                        + " (check the clocks of both machines)", e);
            }
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("pgwarden is the client on this connection");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("pgwarden is the client on this connection");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("pgwarden is the client on this connection");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return chainCheck == null ? new X509Certificate[0] : chainCheck.getAcceptedIssuers();
    }
}
