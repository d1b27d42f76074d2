package io.pgwarden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A throwaway CA and a server certificate it signed (RSA 2048, the README's own recipe and what most
 * deployments present), made with the openssl command line for one benchmark run. Both proxies get the same
 * files, so that neither is measured with a cheaper key.
 */
final class TlsCertificates {

    static final String KEY_DESCRIPTION = "RSA 2048, SHA-256, signed by a throwaway CA";

    private TlsCertificates() {
    }

    /** Writes ca.crt, tls.crt and tls.key into {@code dir}; PgBouncer (the postgres user, as root) can read them. */
    static Proxy.ClientTls generate(Path dir) throws IOException {
        String openssl = Processes.findTool("openssl");
        if (openssl == null) {
            throw new IOException("the TLS workloads need the openssl command (Debian: apt-get install -y openssl)");
        }
        Files.createDirectories(dir);
        run(dir, openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
                "-subj", "/CN=pgwarden bench CA", "-keyout", "ca.key", "-out", "ca.crt");
        run(dir, openssl, "req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", "/CN=localhost",
                "-keyout", "tls.key", "-out", "tls.csr");
        // libpq's sslmode=require checks no name; the names are there for anyone who tries verify-full by hand.
        Files.writeString(dir.resolve("san.ext"), "subjectAltName = DNS:localhost, IP:127.0.0.1\n");
        run(dir, openssl, "x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "san.ext", "-out", "tls.crt");
        Processes.makeAccessibleToPostgresUser(dir);
        return new Proxy.ClientTls(dir.resolve("tls.crt"), dir.resolve("tls.key"));
    }

    private static void run(Path dir, String... command) throws IOException {
        Processes.runChecked(List.of(command), dir, 60);
    }
}
