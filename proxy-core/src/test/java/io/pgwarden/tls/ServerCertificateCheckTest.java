package io.pgwarden.tls;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.it.ThrowawayCa;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.Test;

/** Each refusal of PostgreSQL's certificate names its own reason, and the name rules are libpq's. */
class ServerCertificateCheckTest {

    private static final ThrowawayCa CA = ThrowawayCa.create("test CA");

    private static ServerCertificateCheck verifyFull() throws Exception {
        return check(true);
    }

    private static ServerCertificateCheck check(boolean hostName) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("ca", CA.certificate());
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return new ServerCertificateCheck((X509TrustManager) factory.getTrustManagers()[0], "ca.crt", hostName);
    }

    private static void accept(ServerCertificateCheck check, X509Certificate certificate, String host)
            throws Exception {
        check.checkServerTrusted(new X509Certificate[] {certificate}, "UNKNOWN",
                SSLContext.getDefault().createSSLEngine(host, 5432));
    }

    private static X509Certificate server(List<String> dns, List<String> ips) {
        return CA.server("postgres", dns, ips).certificate();
    }

    @Test
    void aCertificateFromTheCaForTheHostIsAccepted() throws Exception {
        X509Certificate certificate = server(List.of("localhost"), List.of("127.0.0.1", "::1"));
        assertThatCode(() -> accept(verifyFull(), certificate, "127.0.0.1")).doesNotThrowAnyException();
        assertThatCode(() -> accept(verifyFull(), certificate, "::1")).doesNotThrowAnyException();
        assertThatCode(() -> accept(verifyFull(), certificate, "LOCALHOST")).doesNotThrowAnyException();
    }

    @Test
    void anExpiredCertificateSaysSo() {
        Instant now = Instant.now();
        X509Certificate expired = CA.issue("postgres", List.of("localhost"), List.of(), now.minus(Duration.ofDays(3)),
                now.minus(Duration.ofDays(1)), KeyPurposeId.id_kp_serverAuth).certificate();
        assertThatThrownBy(() -> accept(verifyFull(), expired, "localhost"))
                .isInstanceOf(ServerCertificateException.class).hasMessageStartingWith("certificate expired: ");
        X509Certificate future = CA.issue("postgres", List.of("localhost"), List.of(), now.plus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(3)), KeyPurposeId.id_kp_serverAuth).certificate();
        assertThatThrownBy(() -> accept(verifyFull(), future, "localhost"))
                .isInstanceOf(ServerCertificateException.class).hasMessageStartingWith("certificate not yet valid: ");
    }

    @Test
    void aCertificateFromAnotherCaIsAnUnknownCa() {
        X509Certificate foreign = ThrowawayCa.create("other CA").server("postgres", List.of("localhost"), List.of())
                .certificate();
        assertThatThrownBy(() -> accept(verifyFull(), foreign, "localhost"))
                .isInstanceOf(ServerCertificateException.class).hasMessageStartingWith("unknown CA: ")
                .hasMessageContaining("CN=other CA").hasMessageContaining("ca.crt");
    }

    @Test
    void verifyCaDoesNotLookAtTheName() throws Exception {
        X509Certificate certificate = server(List.of("db.internal"), List.of());
        assertThatCode(() -> accept(check(false), certificate, "127.0.0.1")).doesNotThrowAnyException();
    }

    @Test
    void namesFollowLibpqRules() throws Exception {
        X509Certificate wildcard = server(List.of("*.example.com"), List.of());
        assertThatCode(() -> accept(verifyFull(), wildcard, "db.example.com")).doesNotThrowAnyException();
        assertThatThrownBy(() -> accept(verifyFull(), wildcard, "a.db.example.com"))
                .hasMessageStartingWith("host name mismatch: ");
        assertThatThrownBy(() -> accept(verifyFull(), wildcard, "example.com"))
                .hasMessageStartingWith("host name mismatch: ");
        // An IP address is not a DNS name: the certificate must list the address, or server_name must be set.
        assertThatThrownBy(() -> accept(verifyFull(), wildcard, "10.0.0.5"))
                .hasMessageStartingWith("host name mismatch: ").hasMessageContaining("server.tls.server_name");
        // No subject alternative name at all: the common name counts.
        X509Certificate commonNameOnly = CA.server("localhost", List.of(), List.of()).certificate();
        assertThatCode(() -> accept(verifyFull(), commonNameOnly, "localhost")).doesNotThrowAnyException();
        // With DNS names present the common name does not count.
        X509Certificate both = CA.server("db.internal", List.of("other.internal"), List.of()).certificate();
        assertThatThrownBy(() -> accept(verifyFull(), both, "db.internal"))
                .hasMessageStartingWith("host name mismatch: ");
    }
}
