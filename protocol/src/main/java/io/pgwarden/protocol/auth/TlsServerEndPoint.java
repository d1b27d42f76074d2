package io.pgwarden.protocol.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@code tls-server-end-point} channel binding data (RFC 5929 section 4.1): the hash of the server's
 * certificate, with its signature's hash function, except that MD5 and SHA-1 are replaced by SHA-256.
 */
public final class TlsServerEndPoint {

    /** The channel binding type name, as in {@code p=tls-server-end-point}. */
    public static final String NAME = "tls-server-end-point";

    private TlsServerEndPoint() {
    }

    /**
     * @return empty when the signature names no hash function (Ed25519, RSASSA-PSS): PostgreSQL then offers no
     *         channel binding either, since clients could not compute the same value
     */
    public static Optional<byte[]> of(X509Certificate certificate) {
        String signature = certificate.getSigAlgName().toUpperCase(Locale.ROOT);
        String hash;
        if (signature.startsWith("MD5") || signature.startsWith("SHA1") || signature.startsWith("SHA256")) {
            hash = "SHA-256";
        } else if (signature.startsWith("SHA224")) {
            hash = "SHA-224";
        } else if (signature.startsWith("SHA384")) {
            hash = "SHA-384";
        } else if (signature.startsWith("SHA512")) {
            hash = "SHA-512";
        } else {
            return Optional.empty();
        }
        try {
            return Optional.of(MessageDigest.getInstance(hash).digest(certificate.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return Optional.empty();
        }
    }
}
