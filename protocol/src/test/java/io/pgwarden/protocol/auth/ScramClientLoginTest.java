package io.pgwarden.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScramClientLoginTest {

    private static final List<String> OFFERED = List.of("SCRAM-SHA-256");

    @Test
    void logsInToScramServerWithTheRightPassword() throws Exception {
        ScramServer server = new ScramServer(ScramSecret.generate("s3cret"));
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED);
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");

        byte[] clientFirst = client.clientFirstMessage();
        assertThat(new String(clientFirst, StandardCharsets.UTF_8)).startsWith("n,,");
        byte[] clientFinal = client.handleServerFirst(server.handleClientFirst(clientFirst));
        byte[] serverFinal = server.handleClientFinal(clientFinal);
        assertThatCode(() -> client.verifyServerFinal(serverFinal)).doesNotThrowAnyException();
    }

    @Test
    void logsInWithANonAsciiPasswordThatNeedsSaslprep() throws Exception {
        ScramServer server = new ScramServer(ScramSecret.generate("p\u00e4ss\u00a0w\u00f6rd"));
        ScramClientLogin client = new ScramClientLogin("alice", "p\u00e4ss\u00a0w\u00f6rd", OFFERED);
        byte[] serverFinal = server.handleClientFinal(client.handleServerFirst(
                server.handleClientFirst(client.clientFirstMessage())));
        assertThatCode(() -> client.verifyServerFinal(serverFinal)).doesNotThrowAnyException();
    }

    @Test
    void wrongPasswordFailsOnTheServerSide() throws Exception {
        ScramServer server = new ScramServer(ScramSecret.generate("s3cret"));
        ScramClientLogin client = new ScramClientLogin("alice", "guess", OFFERED);
        byte[] clientFinal = client.handleServerFirst(server.handleClientFirst(client.clientFirstMessage()));
        assertThatThrownBy(() -> server.handleClientFinal(clientFinal))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageNotContaining("guess");
    }

    @Test
    void rejectsAServerThatDoesNotKnowTheSecret() throws Exception {
        ScramServer impostor = new ScramServer(ScramSecret.generate("something else"));
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED);
        client.handleServerFirst(impostor.handleClientFirst(client.clientFirstMessage()));
        byte[] forged = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> client.verifyServerFinal(forged)).isInstanceOf(AuthenticationException.class);
    }

    @Test
    void rejectsAServerFirstWithAForeignNonce() throws Exception {
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED);
        client.clientFirstMessage();
        byte[] serverFirst = "r=notournonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> client.handleServerFirst(serverFirst)).isInstanceOf(AuthenticationException.class);
    }

    @Test
    void choosesPlainScramEvenWhenPlusIsOffered() throws Exception {
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"));
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8)).startsWith("n,,");
    }

    @Test
    void failsWhenNoSupportedMechanismIsOffered() {
        assertThatThrownBy(() -> new ScramClientLogin("alice", "s3cret", List.of("SCRAM-SHA-256-PLUS")))
                .isInstanceOf(AuthenticationException.class);
        assertThatThrownBy(() -> new ScramClientLogin("alice", "s3cret", List.of()))
                .isInstanceOf(AuthenticationException.class);
    }

    /** A self-signed certificate with no key anywhere: only its bytes matter for the channel binding. */
    private static final String CERTIFICATE = """
            -----BEGIN CERTIFICATE-----
            MIIBhjCCASugAwIBAgIUYwGGffoU7G9vOTBcq55WMDQh5U0wCgYIKoZIzj0EAwIw
            GDEWMBQGA1UEAwwNcGd3YXJkZW4tdGVzdDAeFw0yNjEyMDExNjUwMDNaFw0zNjEx
            MjgxNjUwMDNaMBgxFjAUBgNVBAMMDXBnd2FyZGVuLXRlc3QwWTATBgcqhkjOPQIB
            BggqhkjOPQMBBwNCAATMufczqmvUfX8nBRROe+aJVvT+4E2RTaShBAR+02ORBI5e
            gHsvt4FdNdu055ydtqdISVc6W9YaNIlBLsm9s2Qjo1MwUTAdBgNVHQ4EFgQUsAcb
            0ZlIi9eRLwFo+chTCHTEFbIwHwYDVR0jBBgwFoAUsAcb0ZlIi9eRLwFo+chTCHTE
            FbIwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA30yzSHmr2voh
            OC3kE/v93hOkwFIgkbna2TpeWxRRamoCIQCwyKfWd+3H25KQHJ8kHcuicWCGysSu
            Y44D8WCiwcGz5g==
            -----END CERTIFICATE-----
            """;

    private static X509Certificate certificate() throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(CERTIFICATE.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void overTlsBindsTheChannelWhenTheServerOffersPlus() throws Exception {
        X509Certificate certificate = certificate();
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret",
                List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"), certificate);

        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        String clientFirst = new String(client.clientFirstMessage(), StandardCharsets.UTF_8);
        assertThat(clientFirst).startsWith("p=tls-server-end-point,,");
        // c= carries the gs2 header and the SHA-256 of the certificate (RFC 5929, for ecdsa-with-SHA256).
        String nonce = clientFirst.substring(clientFirst.indexOf(",r=") + 3);
        String serverFirst = "r=" + nonce + "srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        String clientFinal = new String(client.handleServerFirst(serverFirst.getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        byte[] header = "p=tls-server-end-point,,".getBytes(StandardCharsets.UTF_8);
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
        byte[] binding = new byte[header.length + hash.length];
        System.arraycopy(header, 0, binding, 0, header.length);
        System.arraycopy(hash, 0, binding, header.length, hash.length);
        assertThat(clientFinal).startsWith("c=" + Base64.getEncoder().encodeToString(binding) + ",");
    }

    @Test
    void overTlsWithoutAPlusOfferSaysItCouldHaveBound() throws Exception {
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret", OFFERED, certificate());
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8)).startsWith("y,,");
    }

    @Test
    void withoutTlsPlusIsNeverChosen() throws Exception {
        ScramClientLogin client = new ScramClientLogin("alice", "s3cret",
                List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"));
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8)).startsWith("n,,");
        assertThatThrownBy(() -> new ScramClientLogin("alice", "s3cret", List.of("SCRAM-SHA-256-PLUS")))
                .isInstanceOf(AuthenticationException.class)
                .hasMessageContaining("needs a TLS connection");
    }
}
