package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.pgwarden.config.AuthMethod;
import io.pgwarden.config.SecretKind;
import io.pgwarden.config.UserConfig;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.PasswordMessages;
import io.pgwarden.protocol.Tags;
import io.pgwarden.protocol.auth.AuthenticationException;
import io.pgwarden.protocol.auth.Md5Password;
import io.pgwarden.protocol.auth.ScramServer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * Authenticates one client against the configured users with the method the user's config names.
 * It writes the authentication requests; the session sends AuthenticationOk once login can complete.
 */
public final class ClientAuthenticator {

    private static final String SCRAM_SHA_256 = "SCRAM-SHA-256";
    private static final String SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS";

    private enum Step { SENT_REQUEST, SASL_CONTINUE_SENT, DONE }

    private final String userName;
    private final UserConfig user;
    private final AuthMethod method;
    private final Credentials credentials;
    /** This TLS connection's tls-server-end-point data; null for plain text. */
    private final byte[] channelBinding;
    private Step step = Step.SENT_REQUEST;
    private byte[] md5Salt;
    private ScramServer scram;

    /** {@code user} is null when nobody of that name is configured; the exchange then always fails. */
    public ClientAuthenticator(String userName, UserConfig user, Credentials credentials) {
        this(userName, user, credentials, null);
    }

    /** @param channelBinding the connection's tls-server-end-point data, to offer SCRAM-SHA-256-PLUS; or null */
    public ClientAuthenticator(String userName, UserConfig user, Credentials credentials, byte[] channelBinding) {
        this(userName, user, credentials, channelBinding, null);
    }

    /**
     * @param method the exchange an access rule asks for in place of the user's own {@code auth}; null for the
     *               user's own
     */
    public ClientAuthenticator(String userName, UserConfig user, Credentials credentials, byte[] channelBinding,
                               AuthMethod method) {
        this.channelBinding = channelBinding;
        this.userName = userName;
        this.user = user;
        AuthMethod wanted = method != null ? method : user != null ? user.auth() : AuthMethod.SCRAM_SHA_256;
        this.method = user == null ? wanted : StoredSecretCheck.method(user, wanted);
        this.credentials = credentials;
    }

    /** Writes the first authentication request. */
    public void start(ByteBuf out) {
        switch (method) {
            case SCRAM_SHA_256 -> {
                scram = new ScramServer(user != null ? credentials.scramSecret(user) : credentials.mockSecret(userName),
                        channelBinding);
                // PostgreSQL's order: a client that can bind picks the first mechanism it knows.
                BackendMessages.authenticationSasl(out, scram.offersChannelBinding()
                        ? List.of(SCRAM_SHA_256_PLUS, SCRAM_SHA_256) : List.of(SCRAM_SHA_256));
            }
            case MD5 -> {
                md5Salt = new byte[4];
                new SecureRandom().nextBytes(md5Salt);
                BackendMessages.authenticationMd5Password(out, md5Salt);
            }
            case CLEARTEXT -> BackendMessages.authenticationCleartextPassword(out);
        }
    }

    /**
     * Handles one client message of the exchange, writing any reply to {@code out}.
     *
     * @return true when the client is authenticated
     * @throws AuthenticationException when it is not (wrong password, unknown user, malformed exchange)
     */
    public boolean onMessage(ByteBuf message, ByteBuf out) throws AuthenticationException {
        if (Frames.tag(message) != Tags.Frontend.PASSWORD || step == Step.DONE) {
            throw new AuthenticationException("expected a password message, got "
                    + Tags.describeFrontend(Frames.tag(message)));
        }
        return switch (method) {
            case SCRAM_SHA_256 -> scramStep(message, out);
            case MD5 -> finish(user != null && user.secretKind() == SecretKind.MD5_HASH
                    ? Md5Password.verifyWithStoredHash(user.password(), md5Salt, PasswordMessages.password(message))
                    : Md5Password.verify(userName, password(), md5Salt, PasswordMessages.password(message)));
            case CLEARTEXT -> finish(user != null && user.secretKind() != SecretKind.PLAINTEXT
                    ? StoredSecretCheck.cleartext(user, credentials, PasswordMessages.password(message))
                    : constantTimeEquals(password(), PasswordMessages.password(message)));
        };
    }

    private boolean scramStep(ByteBuf message, ByteBuf out) throws AuthenticationException {
        if (step == Step.SENT_REQUEST) {
            PasswordMessages.SaslInitial initial = PasswordMessages.saslInitialResponse(message);
            boolean plus = SCRAM_SHA_256_PLUS.equals(initial.mechanism()) && scram.offersChannelBinding();
            if (!plus && !SCRAM_SHA_256.equals(initial.mechanism())) {
                throw new AuthenticationException("unsupported SASL mechanism " + initial.mechanism());
            }
            BackendMessages.authenticationSaslContinue(out, scram.handleClientFirst(initial.data(), plus));
            step = Step.SASL_CONTINUE_SENT;
            return false;
        }
        byte[] serverFinal = scram.handleClientFinal(PasswordMessages.saslResponse(message));
        if (user == null) {
            throw new AuthenticationException("no such user");
        }
        if (user.secretKind() == SecretKind.SCRAM_VERIFIER) {
            credentials.passThroughKeys().remember(user.name(), scram.clientKey());
        }
        BackendMessages.authenticationSaslFinal(out, serverFinal);
        step = Step.DONE;
        return true;
    }

    private String password() {
        // An unknown user still gets a comparison, against a value nobody can type.
        return user != null ? user.password() : "\0unknown";
    }

    private boolean finish(boolean matches) throws AuthenticationException {
        if (!matches || user == null) {
            throw new AuthenticationException("password does not match");
        }
        step = Step.DONE;
        return true;
    }

    private static boolean constantTimeEquals(String expected, String given) {
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }
}
