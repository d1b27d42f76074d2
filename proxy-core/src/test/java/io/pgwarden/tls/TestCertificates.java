package io.pgwarden.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Throwaway certificates for the TLS tests, made fresh in each run: a CA, server certificates it signs (SAN
 * 127.0.0.1 and localhost) and client certificates. Nothing here is committed or reused.
 */
public final class TestCertificates {

    /** A certificate and its key. */
    public record Issued(X509Certificate certificate, KeyPair keys) {
        public BigInteger serial() {
            return certificate.getSerialNumber();
        }
    }

    private final Issued ca;

    private TestCertificates(Issued ca) {
        this.ca = ca;
    }

    public static TestCertificates newCa() {
        KeyPair keys = rsa();
        X500Name name = new X500Name("CN=pgwarden test CA");
        try {
            JcaX509v3CertificateBuilder builder = builder(name, BigInteger.ONE, name, keys);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new TestCertificates(new Issued(sign(builder, keys, "SHA256withRSA"), keys));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Issued ca() {
        return ca;
    }

    /** A server certificate for 127.0.0.1 and localhost. */
    public Issued server(long serial) {
        return server(serial, "SHA256withRSA");
    }

    public Issued server(long serial, String signatureAlgorithm) {
        return issue(serial, "CN=localhost", signatureAlgorithm, true);
    }

    public Issued client(long serial, String commonName) {
        return issue(serial, "CN=" + commonName, "SHA256withRSA", false);
    }

    private Issued issue(long serial, String subject, String signatureAlgorithm, boolean server) {
        KeyPair keys = rsa();
        try {
            JcaX509v3CertificateBuilder builder = builder(new X500Name(ca.certificate.getSubjectX500Principal()
                    .getName()), BigInteger.valueOf(serial), new X500Name(subject), keys);
            if (server) {
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost")}));
            }
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            return new Issued(sign(builder, ca.keys, signatureAlgorithm), keys);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code issued} as PEM: the certificate (then the CA's, as a chain) and its key in PKCS#8. */
    public static void write(Issued issued, Path certFile, Path keyFile) {
        writeFile(certFile, pem(issued.certificate));
        writeFile(keyFile, pkcs8(issued));
    }

    /** The certificate followed by {@code chain}, as a server's cert_file holds it. */
    public static void writeWithChain(Issued issued, X509Certificate chain, Path certFile) {
        writeFile(certFile, pem(issued.certificate) + pem(chain));
    }

    public static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /** -----BEGIN PRIVATE KEY-----, as openssl 3 and cert-manager write it. */
    public static String pkcs8(Issued issued) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(issued.keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    /** -----BEGIN RSA PRIVATE KEY-----, as older openssl writes it. */
    public static String pkcs1(Issued issued) {
        return pem(issued.keys);
    }

    public static void writeFile(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JcaX509v3CertificateBuilder builder(X500Name issuer, BigInteger serial, X500Name subject,
                                                       KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer, String algorithm) {
        try {
            return new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder(algorithm).build(signer.getPrivate())));
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
