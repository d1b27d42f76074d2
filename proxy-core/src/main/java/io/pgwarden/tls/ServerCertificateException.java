package io.pgwarden.tls;

import java.security.cert.CertificateException;

/**
 * PostgreSQL's certificate was refused. The message starts with the reason (unknown CA, host name mismatch,
 * certificate expired, ...) and is what a waiting client, the log and /ready show; it survives the JDK wrapping it
 * into an SSLHandshakeException because {@link ServerTls#reason} looks for it in the cause chain.
 */
public final class ServerCertificateException extends CertificateException {

    private static final long serialVersionUID = 1L;

    ServerCertificateException(String message) {
        super(message);
    }

    ServerCertificateException(String message, Throwable cause) {
        super(message, cause);
    }
}
