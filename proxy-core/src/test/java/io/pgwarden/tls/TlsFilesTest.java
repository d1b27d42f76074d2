package io.pgwarden.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ListenTls;
import io.pgwarden.protocol.auth.TlsServerEndPoint;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM files as operators have them, and the problems a bad one reports. */
class TlsFilesTest {

    @TempDir
    static Path dir;
    private static TestCertificates certificates;
    private static TestCertificates.Issued server;

    @BeforeAll
    static void make() {
        certificates = TestCertificates.newCa();
        server = certificates.server(7);
    }

    private static String write(String name, String text) {
        Path file = dir.resolve(name);
        TestCertificates.writeFile(file, text);
        return file.toString();
    }

    @Test
    void readsAChainInFileOrderAndKeysInPkcs8Pkcs1AndSec1() throws Exception {
        String chain = write("chain.pem", "subject=CN=localhost\n" + TestCertificates.pem(server.certificate())
                + "\n" + TestCertificates.pem(certificates.ca().certificate()));
        List<X509Certificate> read = TlsFiles.certificates(chain, "listen.tls.cert_file");
        assertThat(read).containsExactly(server.certificate(), certificates.ca().certificate());

        PrivateKey pkcs8 = TlsFiles.privateKey(write("k8.pem", TestCertificates.pkcs8(server)), "k");
        PrivateKey pkcs1 = TlsFiles.privateKey(write("k1.pem", TestCertificates.pkcs1(server)), "k");
        assertThat(pkcs1.getEncoded()).isEqualTo(pkcs8.getEncoded()).isEqualTo(server.keys().getPrivate().getEncoded());
        assertThat(TlsFiles.belongTogether(pkcs1, server.certificate())).isTrue();
        assertThat(TlsFiles.belongTogether(pkcs1, certificates.ca().certificate())).isFalse();

        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ecKeys = ec.generateKeyPair();
        // As openssl ecparam -genkey writes it: the curve's name inside the SEC1 structure.
        byte[] sec1Der = new org.bouncycastle.asn1.sec.ECPrivateKey(256,
                ((java.security.interfaces.ECPrivateKey) ecKeys.getPrivate()).getS(),
                org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1).getEncoded();
        String sec1 = "-----BEGIN EC PRIVATE KEY-----\n" + java.util.Base64.getMimeEncoder().encodeToString(sec1Der)
                + "\n-----END EC PRIVATE KEY-----\n";
        PrivateKey readEc = TlsFiles.privateKey(write("ec.pem", sec1), "k");
        assertThat(readEc.getAlgorithm()).isEqualTo("EC");
        assertThat(((java.security.interfaces.ECPrivateKey) readEc).getS())
                .isEqualTo(((java.security.interfaces.ECPrivateKey) ecKeys.getPrivate()).getS());
    }

    @Test
    void problemsNameTheKeyAndTheFileButNeverTheContents() {
        assertThat(problem(() -> TlsFiles.certificates(dir.resolve("missing.pem").toString(), "listen.tls.cert_file")))
                .isEqualTo("listen.tls.cert_file: " + dir.resolve("missing.pem") + " does not exist");
        String keyAsCert = write("key-as-cert.pem", TestCertificates.pkcs8(server));
        assertThat(problem(() -> TlsFiles.certificates(keyAsCert, "listen.tls.cert_file")))
                .isEqualTo("listen.tls.cert_file: " + keyAsCert + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        String encrypted = write("enc.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertThat(problem(() -> TlsFiles.privateKey(encrypted, "listen.tls.key_file")))
                .startsWith("listen.tls.key_file: " + encrypted + " holds an encrypted private key");
        String certAsKey = write("cert-as-key.pem", TestCertificates.pem(server.certificate()));
        assertThat(problem(() -> TlsFiles.privateKey(certAsKey, "listen.tls.key_file")))
                .isEqualTo("listen.tls.key_file: " + certAsKey + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedBeforeItReplacesTheWorkingOne() {
        String cert = write("pair.pem", TestCertificates.pem(server.certificate()));
        String otherKey = write("other.key", TestCertificates.pkcs8(certificates.server(8)));
        String message = problem(() -> ListenerTls.prepare(new ListenTls(ListenTls.Mode.REQUIRE, cert, otherKey, null,
                ListenTls.ClientCert.NONE, ListenTls.Provider.JDK)));
        assertThat(message).isEqualTo("listen.tls.key_file: " + otherKey + " is not the private key of the certificate in "
                + cert);
    }

    @Test
    void theChannelBindingIsTheCertificatesHashWithSha256StandingInForSha1() throws Exception {
        assertThat(TlsServerEndPoint.of(server.certificate())).contains(sha(server.certificate(), "SHA-256"));
        X509Certificate sha384 = certificates.server(9, "SHA384withRSA").certificate();
        assertThat(TlsServerEndPoint.of(sha384)).contains(sha(sha384, "SHA-384"));
        X509Certificate sha1 = certificates.server(10, "SHA1withRSA").certificate();
        assertThat(TlsServerEndPoint.of(sha1)).contains(sha(sha1, "SHA-256"));
    }

    private static byte[] sha(X509Certificate certificate, String algorithm) throws Exception {
        return MessageDigest.getInstance(algorithm).digest(certificate.getEncoded());
    }

    private interface Call {
        void run() throws Exception;
    }

    private static String problem(Call call) {
        ConfigException e = catchThrowableOfType(ConfigException.class, call::run);
        assertThat(e).as("a ConfigException").isNotNull();
        assertThat(e.problems()).hasSize(1);
        return e.problems().get(0);
    }
}
