package io.pgwarden.tls;

import io.pgwarden.config.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM certificates and private keys as operators have them (openssl, cert-manager, Kubernetes TLS Secrets).
 * Every problem is a {@link ConfigException} naming the configuration key, so a bad file reads like a bad setting;
 * no message ever quotes the file's contents.
 */
public final class TlsFiles {

    private static final Pattern CERTIFICATE = Pattern.compile(
            "-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+)-----END CERTIFICATE-----");
    private static final Pattern KEY = Pattern.compile(
            "-----BEGIN ([A-Z ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s:,-]+?)-----END \\1PRIVATE KEY-----");
    /** 1.2.840.113549.1.1.1 (rsaEncryption) with its NULL parameters, DER. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** 1.2.840.10045.2.1 (id-ecPublicKey), DER. */
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private TlsFiles() {
    }

    /** The certificates of a PEM file in file order: the server's own first, then its chain. */
    public static List<X509Certificate> certificates(String file, String key) throws ConfigException {
        String text = read(file, key);
        List<X509Certificate> certificates = new ArrayList<>();
        Matcher matcher = CERTIFICATE.matcher(text);
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            while (matcher.find()) {
                byte[] der = Base64.getMimeDecoder().decode(matcher.group(1));
                certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (CertificateException | IllegalArgumentException e) {
            throw problem(key, file + " holds a certificate that cannot be parsed: " + e.getMessage());
        }
        if (certificates.isEmpty()) {
            throw problem(key, file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return certificates;
    }

    /** The first private key of a PEM file: PKCS#8, or PKCS#1 (RSA) and SEC1 (EC) as older tools write them. */
    public static PrivateKey privateKey(String file, String key) throws ConfigException {
        Matcher matcher = KEY.matcher(read(file, key));
        if (!matcher.find()) {
            throw problem(key, file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
        }
        String kind = matcher.group(1).trim();
        if (matcher.group(2).contains(":")) {
            throw encrypted(file, key);
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(matcher.group(2));
        } catch (IllegalArgumentException e) {
            throw problem(key, file + " holds a private key that is not valid base64");
        }
        byte[] pkcs8 = switch (kind) {
            case "" -> der;
            case "RSA" -> sequence(concat(new byte[] {0x02, 0x01, 0x00}, RSA_ALGORITHM, octetString(der)));
            case "EC" -> ecToPkcs8(der, file, key);
            case "ENCRYPTED" -> throw encrypted(file, key);
            default -> throw problem(key, file + " holds a " + kind + " private key, which pgwarden cannot read;"
                    + " convert it with: openssl pkcs8 -topk8 -nocrypt");
        };
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this algorithm; try the next
            }
        }
        throw problem(key, file + " holds a private key that cannot be parsed (not RSA, EC or EdDSA)");
    }

    /** Whether {@code key} signs what {@code certificate}'s public key verifies; true for types not checked here. */
    public static boolean belongTogether(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null;
        };
        if (algorithm == null) {
            return true;
        }
        try {
            byte[] probe = "pgwarden key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String read(String file, String key) throws ConfigException {
        try {
            return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw problem(key, file + " does not exist");
        } catch (AccessDeniedException e) {
            throw problem(key, file + " cannot be read: permission denied");
        } catch (IOException | RuntimeException e) {
            throw problem(key, file + " cannot be read: " + e.getMessage());
        }
    }

    /**
     * SEC1's ECPrivateKey names its curve in an optional [0] field; PKCS#8 wants it in the algorithm identifier.
     */
    private static byte[] ecToPkcs8(byte[] sec1, String file, String key) throws ConfigException {
        byte[] curve = null;
        try {
            int[] outer = header(sec1, 0);
            int position = outer[0];
            int end = position + outer[1];
            while (position < end) {
                int tag = sec1[position] & 0xff;
                int[] field = header(sec1, position);
                if (tag == 0xa0) {
                    int[] oid = header(sec1, field[0]);
                    curve = java.util.Arrays.copyOfRange(sec1, field[0], oid[0] + oid[1]);
                }
                position = field[0] + field[1];
            }
        } catch (RuntimeException e) {
            curve = null;
        }
        if (curve == null) {
            throw problem(key, file + " holds an EC private key without its curve; convert it with: "
                    + "openssl pkcs8 -topk8 -nocrypt");
        }
        return sequence(concat(new byte[] {0x02, 0x01, 0x00}, sequence(concat(EC_PUBLIC_KEY, curve)),
                octetString(sec1)));
    }

    /** @return the offset of the content and its length, for the DER element at {@code offset} */
    private static int[] header(byte[] der, int offset) {
        int first = der[offset + 1] & 0xff;
        if (first < 0x80) {
            return new int[] {offset + 2, first};
        }
        int bytes = first & 0x7f;
        int length = 0;
        for (int i = 0; i < bytes; i++) {
            length = (length << 8) | (der[offset + 2 + i] & 0xff);
        }
        return new int[] {offset + 2 + bytes, length};
    }

    private static byte[] sequence(byte[] content) {
        return element(0x30, content);
    }

    private static byte[] octetString(byte[] content) {
        return element(0x04, content);
    }

    private static byte[] element(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = content.length;
        if (length < 0x80) {
            out.write(length);
        } else {
            int bytes = length > 0xffffff ? 4 : length > 0xffff ? 3 : length > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(length >>> (8 * i));
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static ConfigException encrypted(String file, String key) {
        return problem(key, file + " holds an encrypted private key; pgwarden needs it unencrypted (protect the "
                + "file instead), e.g. openssl pkcs8 -topk8 -nocrypt");
    }

    static ConfigException problem(String key, String sentence) {
        return new ConfigException("at " + key, List.of(key + ": " + sentence));
    }
}
