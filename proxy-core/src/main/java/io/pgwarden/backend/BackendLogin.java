package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.pgwarden.config.CleartextPasswordRule;
import io.pgwarden.protocol.AuthenticationRequest;
import io.pgwarden.protocol.BackendKeyData;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.ParameterStatus;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.Tags;
import io.pgwarden.protocol.auth.AuthenticationException;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.auth.PassThroughKeys;
import io.pgwarden.protocol.auth.ScramClientLogin;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a fresh backend in to PostgreSQL with whichever method the server asks for
 * (trust, cleartext, md5, SCRAM-SHA-256 with channel binding over TLS), collecting its ParameterStatus values and key.
 */
final class BackendLogin implements BackendListener {

    private static final Logger log = LoggerFactory.getLogger(BackendLogin.class);

    private static final int PROTOCOL_3_0 = 3 << 16;

    private final String user;
    private final BackendSecret secret;
    private final String database;
    /** Null for a pooled backend; else a dedicated backend's client's own startup parameters. */
    private final Map<String, String> clientParameters;
    private final CompletableFuture<BackendConnection> result;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    /** A server, or whoever answers at its address, gets the password itself by asking for cleartext. */
    private final CleartextPasswordRule cleartext;
    /** Encrypted, and the certificate chain checked: whoever asks for cleartext is the server and alone to read it. */
    private final boolean verifiedTls;
    private final boolean allowMd5;
    /** The server's TLS certificate, whose hash binds a SCRAM login to this connection; null over plain text. */
    private final X509Certificate serverCertificate;
    private ScramClientLogin scram;
    private boolean refusedByServer;

    BackendLogin(String user, String password, String database, CompletableFuture<BackendConnection> result) {
        this(user, new BackendSecret(user, password, new PassThroughKeys()), database, null,
                CleartextPasswordRule.ALWAYS, true, null, false, result);
    }

    BackendLogin(String user, BackendSecret secret, String database, Map<String, String> clientParameters,
                 CleartextPasswordRule cleartext, boolean allowMd5, X509Certificate serverCertificate,
                 boolean verifiedTls, CompletableFuture<BackendConnection> result) {
        this.serverCertificate = serverCertificate;
        this.user = user;
        this.secret = secret;
        this.database = database;
        this.clientParameters = clientParameters;
        this.cleartext = cleartext;
        this.verifiedTls = verifiedTls;
        this.allowMd5 = allowMd5;
        this.result = result;
    }

    /** Whether PostgreSQL itself answered the login with an error, which libpq's allow and prefer retry. */
    boolean refusedByServer() {
        return refusedByServer;
    }

    void start(BackendConnection backend) {
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("user", user);
        startup.put("database", database);
        if (clientParameters != null) {
            // A dedicated backend (replication) is the client's own: it gets what the client asked for, as is.
            clientParameters.forEach(startup::putIfAbsent);
        } else {
            // Clients are told the encoding of a real backend, and every driver we serve speaks UTF8.
            startup.put("client_encoding", "UTF8");
        }
        ByteBuf out = backend.channel().alloc().buffer();
        new StartupMessage(PROTOCOL_3_0, startup).encode(out);
        backend.write(out);
        backend.flush();
    }

    @Override
    public void onBackendMessage(BackendConnection backend, ByteBuf message) {
        try {
            switch (Frames.tag(message)) {
                case Tags.Backend.AUTHENTICATION -> authenticate(backend, AuthenticationRequest.decode(message));
                case Tags.Backend.PARAMETER_STATUS -> {
                    ParameterStatus.Entry entry = ParameterStatus.decode(message);
                    parameters.put(entry.name(), entry.value());
                }
                case Tags.Backend.BACKEND_KEY_DATA ->
                        backend.setKey(BackendKeyData.processId(message), BackendKeyData.secretKey(message));
                case Tags.Backend.ERROR_RESPONSE -> {
                    refusedByServer = true;
                    ErrorResponse error = ErrorResponse.decode(message);
                    fail(backend, error, isPermanent(error.sqlstate()));
                }
                case Tags.Backend.READY_FOR_QUERY -> {
                    backend.setParameters(parameters);
                    result.complete(backend);
                }
                default -> {
                    // NoticeResponse and NegotiateProtocolVersion need no answer during login.
                }
            }
        } catch (AuthenticationException e) {
            if (secret.isStored()) {
                log.warn("event=server_login_failed server={} user={} reason={}", backend.id(),
                        LogValues.quote(user), LogValues.quote(e.getMessage()));
            }
            fail(backend, ErrorResponse.fatal("28000", "pgwarden could not log in to PostgreSQL as \""
                    + user + "\": " + e.getMessage()), true);
        } catch (RuntimeException e) {
            fail(backend, ErrorResponse.fatal("08P01", "pgwarden could not log in to PostgreSQL: " + e.getMessage()),
                    false);
        } finally {
            message.release();
        }
    }

    private void authenticate(BackendConnection backend, AuthenticationRequest request)
            throws AuthenticationException {
        ByteBuf out = backend.channel().alloc().buffer();
        boolean send;
        try {
            send = answer(backend, request, out);
        } catch (AuthenticationException | RuntimeException e) {
            // Some refusals release it themselves before saying why.
            if (out.refCnt() > 0) {
                out.release();
            }
            throw e;
        }
        if (send) {
            backend.write(out);
            backend.flush();
        }
    }

    private boolean answer(BackendConnection backend, AuthenticationRequest request, ByteBuf out)
            throws AuthenticationException {
        switch (request.type()) {
            case AuthenticationRequest.OK -> {
                out.release();
                return false;
            }
            case AuthenticationRequest.CLEARTEXT_PASSWORD -> {
                refuseCleartextUnlessAllowed(out);
                FrontendMessages.password(out, secret.cleartext());
            }
            case AuthenticationRequest.MD5_PASSWORD -> {
                refuseUnless(allowMd5, out, "an md5 password", "server.allow_md5_password");
                FrontendMessages.password(out, secret.md5Response(request.md5Salt()));
            }
            case AuthenticationRequest.SASL -> {
                scram = secret.scram(request.saslMechanisms(), serverCertificate);
                log.debug("event=server_sasl server={} mechanism={} offered={}", backend.id(), scram.mechanism(),
                        request.saslMechanisms());
                FrontendMessages.saslInitialResponse(out, scram.mechanism(), scram.clientFirstMessage());
            }
            case AuthenticationRequest.SASL_CONTINUE ->
                    FrontendMessages.saslResponse(out, scram().handleServerFirst(request.data()));
            case AuthenticationRequest.SASL_FINAL -> {
                scram().verifyServerFinal(request.data());
                out.release();
                return false;
            }
            default -> {
                out.release();
                throw new AuthenticationException("unsupported authentication request " + request.type());
            }
        }
        return true;
    }

    private void refuseCleartextUnlessAllowed(ByteBuf out) throws AuthenticationException {
        if (cleartext != CleartextPasswordRule.OVER_VERIFIED_TLS) {
            refuseUnless(cleartext.allows(verifiedTls), out, "a cleartext password", "server.allow_cleartext_password");
            return;
        }
        if (!cleartext.allows(verifiedTls)) {
            out.release();
            throw new AuthenticationException("the server asks for a cleartext password "
                    + (serverCertificate == null ? "over a connection without TLS" : "over TLS whose certificate"
                            + " was not verified")
                    + " and server.allow_cleartext_password is not set, which allows it only over TLS with a verified"
                    + " certificate (server.tls.mode verify-ca or verify-full, or require with server.tls.ca_file);"
                    + " set server.allow_cleartext_password: true to send it regardless");
        }
    }

    private static void refuseUnless(boolean allowed, ByteBuf out, String method, String key)
            throws AuthenticationException {
        if (!allowed) {
            out.release();
            throw new AuthenticationException("the server asks for " + method + " and " + key + " is false");
        }
    }

    private ScramClientLogin scram() throws AuthenticationException {
        if (scram == null) {
            throw new AuthenticationException("SASL exchange out of order");
        }
        return scram;
    }

    private void fail(BackendConnection backend, ErrorResponse error, boolean permanent) {
        if (result.completeExceptionally(new BackendLoginException(error, permanent))) {
            backend.close(LossReason.LOGIN_FAILED, error.message());
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        result.completeExceptionally(new BackendLoginException(
                ErrorResponse.fatal("08006", "PostgreSQL closed the connection during login"), false));
    }

    /** Authentication (28xxx) and missing database (3D000) will not fix themselves by retrying. */
    private static boolean isPermanent(String sqlstate) {
        return sqlstate != null && (sqlstate.startsWith("28") || sqlstate.equals("3D000"));
    }
}
