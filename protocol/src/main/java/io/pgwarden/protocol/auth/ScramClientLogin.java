package io.pgwarden.protocol.auth;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import com.ongres.scram.common.exception.ScramRuntimeException;
import com.ongres.scram.common.util.TlsServerEndpoint;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * Client side of SCRAM-SHA-256, for the proxy logging in to PostgreSQL. A thin wrapper over the ongres client that
 * pins the choices PostgreSQL needs and maps its exceptions to {@link AuthenticationException}. One per login.
 *
 * <p>Over TLS it binds the login to the channel ({@code SCRAM-SHA-256-PLUS}, {@code tls-server-end-point}, RFC
 * 5929) when the server offers it, as libpq's default {@code channel_binding=prefer} does: a man in the middle
 * holding a certificate the proxy happens to accept still cannot relay the login to the real server.
 */
public final class ScramClientLogin {

    public static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
    public static final String SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS";

    private final ScramClient client;

    /** A login over a plain connection, where channel binding is impossible. */
    public ScramClientLogin(String user, String password, List<String> serverMechanisms)
            throws AuthenticationException {
        this(user, password, serverMechanisms, null);
    }

    /**
     * @param user kept for API symmetry only: PostgreSQL ignores the SCRAM user name (the startup packet's user
     *     counts), so like pgjdbc we send "*" and never have to escape or normalise the real name
     * @param serverMechanisms as offered in AuthenticationSASL
     * @param serverCertificate the server's TLS certificate, or null over a plain connection
     */
    public ScramClientLogin(String user, String password, List<String> serverMechanisms,
                            X509Certificate serverCertificate) throws AuthenticationException {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (!serverMechanisms.contains(SCRAM_SHA_256) && !serverMechanisms.contains(SCRAM_SHA_256_PLUS)) {
            throw new AuthenticationException("server offers no supported SASL mechanism " + serverMechanisms);
        }
        if (password.isEmpty()) {
            throw new AuthenticationException("empty password");
        }
        List<String> usable = serverMechanisms.stream()
                .filter(m -> m.equals(SCRAM_SHA_256) || (serverCertificate != null && m.equals(SCRAM_SHA_256_PLUS)))
                .toList();
        if (usable.isEmpty()) {
            throw new AuthenticationException("server offers only " + SCRAM_SHA_256_PLUS
                    + ", which needs a TLS connection");
        }
        ScramClient.FinalBuildStage builder = ScramClient.builder()
                .advertisedMechanisms(usable)
                .username("*")
                .password(password.toCharArray())
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION);
        if (serverCertificate != null) {
            // Given even when the server offers no -PLUS: the client then says it could bind ("y"), which lets a
            // server that did offer it notice that someone in between removed the offer.
            builder.channelBinding(TlsServerEndpoint.TLS_SERVER_END_POINT, endPointHash(serverCertificate));
        }
        this.client = builder.build();
    }

    private static byte[] endPointHash(X509Certificate certificate) throws AuthenticationException {
        try {
            return TlsServerEndpoint.getChannelBindingData(certificate);
        } catch (CertificateEncodingException | IllegalArgumentException e) {
            throw new AuthenticationException("cannot hash the server certificate for channel binding: "
                    + e.getMessage());
        }
    }

    public String mechanism() {
        return client.getScramMechanism().getName();
    }

    public byte[] clientFirstMessage() {
        return utf8(client.clientFirstMessage().toString());
    }

    /** @return the client-final-message */
    public byte[] handleServerFirst(byte[] serverFirst) throws AuthenticationException {
        try {
            client.serverFirstMessage(new String(serverFirst, StandardCharsets.UTF_8));
            return utf8(client.clientFinalMessage().toString());
        } catch (ScramException | ScramRuntimeException | IllegalArgumentException | IllegalStateException e) {
            throw new AuthenticationException("invalid SCRAM server-first-message");
        }
    }

    /** Checks that the server knows our secret, so a man in the middle cannot fake a successful login. */
    public void verifyServerFinal(byte[] serverFinal) throws AuthenticationException {
        try {
            client.serverFinalMessage(new String(serverFinal, StandardCharsets.UTF_8));
        } catch (ScramException | ScramRuntimeException | IllegalArgumentException | IllegalStateException e) {
            throw new AuthenticationException("SCRAM server signature verification failed");
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
