package io.pgwarden.protocol.auth;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import com.ongres.scram.common.exception.ScramRuntimeException;
import com.ongres.scram.common.util.TlsServerEndpoint;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
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
    /** For pass-through: the verifier whose salt and iterations the server must use; else null. */
    private final ScramSecret passThrough;
    /** Where {@link #passThrough} came from, e.g. {@code users.alice.password}, for the error when it differs. */
    private final String passThroughSource;

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
        this(checked(user, password, serverMechanisms, serverCertificate), serverCertificate, null, null);
    }

    /**
     * SCRAM pass-through: a login with a client's ClientKey and the verifier's ServerKey instead of the password,
     * which works only if the server holds the same verifier (same salt and iterations, checked on its first message).
     *
     * @param verifierSource names where the verifier was configured, for the error when the server's differs
     */
    public static ScramClientLogin passThrough(ScramSecret verifier, byte[] clientKey, String verifierSource,
                                               List<String> serverMechanisms, X509Certificate serverCertificate)
            throws AuthenticationException {
        requireScram(serverMechanisms);
        return new ScramClientLogin(ScramClient.builder().advertisedMechanisms(usable(serverMechanisms,
                        serverCertificate)).username("*").clientAndServerKey(clientKey, verifier.serverKey()),
                serverCertificate, verifier, verifierSource);
    }

    private ScramClientLogin(ScramClient.FinalBuildStage builder, X509Certificate serverCertificate,
                             ScramSecret passThrough, String passThroughSource)
            throws AuthenticationException {
        this.passThrough = passThrough;
        this.passThroughSource = passThroughSource;
        builder.stringPreparation(StringPreparation.POSTGRESQL_PREPARATION);
        if (serverCertificate != null) {
            // Given even when the server offers no -PLUS: the client then says it could bind ("y"), which lets a
            // server that did offer it notice that someone in between removed the offer.
            builder.channelBinding(TlsServerEndpoint.TLS_SERVER_END_POINT, endPointHash(serverCertificate));
        }
        this.client = builder.build();
    }

    private static ScramClient.FinalBuildStage checked(String user, String password, List<String> serverMechanisms,
                                                       X509Certificate serverCertificate)
            throws AuthenticationException {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        requireScram(serverMechanisms);
        if (password.isEmpty()) {
            throw new AuthenticationException("empty password");
        }
        return ScramClient.builder().advertisedMechanisms(usable(serverMechanisms, serverCertificate))
                .username("*").password(password.toCharArray());
    }

    private static void requireScram(List<String> serverMechanisms) throws AuthenticationException {
        if (!serverMechanisms.contains(SCRAM_SHA_256) && !serverMechanisms.contains(SCRAM_SHA_256_PLUS)) {
            throw new AuthenticationException("server offers no supported SASL mechanism " + serverMechanisms);
        }
    }

    private static List<String> usable(List<String> serverMechanisms, X509Certificate serverCertificate)
            throws AuthenticationException {
        List<String> usable = serverMechanisms.stream()
                .filter(m -> m.equals(SCRAM_SHA_256) || (serverCertificate != null && m.equals(SCRAM_SHA_256_PLUS)))
                .toList();
        if (usable.isEmpty()) {
            throw new AuthenticationException("server offers only " + SCRAM_SHA_256_PLUS
                    + ", which needs a TLS connection");
        }
        return usable;
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
        if (passThrough != null) {
            checkSameVerifier(new String(serverFirst, StandardCharsets.UTF_8));
        }
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

    // The proof is computed from the ClientKey, which belongs to one salt and iteration count: with any other the
    // server would answer "password authentication failed", which says nothing of the real cause.
    private void checkSameVerifier(String serverFirst) throws AuthenticationException {
        String salt = null;
        String iterations = null;
        for (String attribute : serverFirst.split(",")) {
            if (attribute.startsWith("s=")) {
                salt = attribute.substring(2);
            } else if (attribute.startsWith("i=")) {
                iterations = attribute.substring(2);
            }
        }
        if (salt == null || iterations == null) {
            throw new AuthenticationException("invalid SCRAM server-first-message");
        }
        byte[] serverSalt;
        try {
            serverSalt = Base64.getDecoder().decode(salt);
        } catch (IllegalArgumentException e) {
            throw new AuthenticationException("invalid SCRAM server-first-message");
        }
        String prefix = "SCRAM pass-through needs PostgreSQL's own verifier: the server's ";
        if (!Arrays.equals(serverSalt, passThrough.salt())) {
            throw new AuthenticationException(prefix + "salt differs from " + passThroughSource);
        }
        if (!iterations.equals(Integer.toString(passThrough.iterations()))) {
            throw new AuthenticationException(prefix + "iteration count differs from " + passThroughSource);
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
