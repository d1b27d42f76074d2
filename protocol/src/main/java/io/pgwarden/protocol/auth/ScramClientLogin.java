package io.pgwarden.protocol.auth;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import com.ongres.scram.common.exception.ScramRuntimeException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Client side of SCRAM-SHA-256, for the proxy logging in to PostgreSQL. A thin wrapper over the ongres client that
 * pins the choices PostgreSQL needs and maps its exceptions to {@link AuthenticationException}. One per login.
 */
public final class ScramClientLogin {

    public static final String SCRAM_SHA_256 = "SCRAM-SHA-256";

    private final ScramClient client;

    /**
     * @param user kept for API symmetry only: PostgreSQL ignores the SCRAM user name (the startup packet's user
     *     counts), so like pgjdbc we send "*" and never have to escape or normalise the real name
     * @param serverMechanisms as offered in AuthenticationSASL; only SCRAM-SHA-256 is used, since -PLUS needs TLS
     */
    public ScramClientLogin(String user, String password, List<String> serverMechanisms)
            throws AuthenticationException {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (!serverMechanisms.contains(SCRAM_SHA_256)) {
            throw new AuthenticationException("server offers no supported SASL mechanism " + serverMechanisms);
        }
        if (password.isEmpty()) {
            throw new AuthenticationException("empty password");
        }
        this.client = ScramClient.builder()
                .advertisedMechanisms(List.of(SCRAM_SHA_256))
                .username("*")
                .password(password.toCharArray())
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION)
                .build();
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
