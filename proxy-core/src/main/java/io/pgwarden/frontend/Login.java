package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import io.pgwarden.admin.AdminConnection;
import io.pgwarden.auth.LookupOutcome;
import io.pgwarden.auth.UserLookup;
import io.pgwarden.config.AccessRule;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.Keepalive;
import io.pgwarden.config.ListenTls;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.config.UserConfig;
import io.pgwarden.log.LogValues;
import io.pgwarden.net.SocketOptions;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.CancelRequest;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.SslRequest;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.StartupRequest;
import io.pgwarden.protocol.auth.AuthenticationException;
import io.pgwarden.replication.ReplicationRelay;
import io.pgwarden.session.CancelRouting;
import io.pgwarden.session.ClientCloseReason;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientState;
import io.pgwarden.session.LoginResult;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's way in: startup negotiation (SSLRequest, CancelRequest, protocol version), authentication, and
 * the choice of what serves it. It ends in one of four ways: a pool login handed to the session
 * ({@link ClientSession#start}), the admin console ({@link #admin()} is then set), a replication connection on a
 * backend of its own ({@link #replication()} is then set), or a refusal with an ErrorResponse and a close reason.
 */
final class Login {

    private static final Logger log = LoggerFactory.getLogger(Login.class);
    /** The protocol minor version pgwarden speaks; newer minors are negotiated down, as PostgreSQL does. */
    private static final int NEWEST_MINOR = 0;

    private final ClientSession session;
    private final Channel channel;
    private final FrontendContext context;
    private final FrontendFrameDecoder decoder;
    private final LoginThrottle throttle;
    private StartupMessage startup;
    private UserConfig user;
    private ClientAuthenticator authenticator;
    /** Why a looked-up user could not be found, for the log line of the failure the client will be told. */
    private String lookupReason;
    private AdminConnection admin;
    /** A CancelRequest came: this connection only waits for its delivery now. */
    private boolean cancelling;
    private ReplicationRelay replication;
    /**
     * The SSLRequest or GSSENCRequest answered last. As in PostgreSQL's ProcessStartupPacket, either may follow
     * the other (libpq tries GSS, then SSL), but one repeated right after itself is refused.
     */
    private Class<?> lastNegotiation;

    Login(ClientSession session, Channel channel, FrontendContext context, FrontendFrameDecoder decoder,
          LoginThrottle throttle) {
        this.session = session;
        this.channel = channel;
        this.context = context;
        this.decoder = decoder;
        this.throttle = throttle;
    }

    /** Set once an authenticated client asked for a replication connection; its backend may still be logging in. */
    ReplicationRelay replication() {
        return replication;
    }

    /** Set once the client logged in to the virtual admin database. */
    AdminConnection admin() {
        return admin;
    }

    void onStartupRequest(StartupRequest request) {
        if (cancelling) {
            // PostgreSQL reads nothing after a CancelRequest either.
            return;
        }
        if (request instanceof StartupMessage message) {
            onStartupMessage(message);
        } else if (request instanceof CancelRequest cancel) {
            onCancelRequest(cancel);
        } else if (request.getClass() == lastNegotiation || ClientTls.isUp(channel)) {
            // PostgreSQL takes the same request twice in a row for a protocol version, and refuses it as one; once
            // TLS is up, it takes any further negotiation so.
            int code = request instanceof SslRequest ? StartupRequest.SSL_REQUEST_CODE
                    : StartupRequest.GSSENC_REQUEST_CODE;
            refuse(unsupportedProtocol(code >>> 16, code & 0xffff));
        } else if (request instanceof SslRequest && context.tls().settings().enabled()) {
            lastNegotiation = SslRequest.class;
            if (decoder.bufferedBytes() > 0) {
                // Bytes sent behind the SSLRequest, before our answer, could be injected by anyone on the path and
                // would then be read as if they came over TLS (PostgreSQL's CVE-2021-23214); refused as it does.
                refuse(ErrorResponse.fatal("08P01", "received unencrypted data after SSL request")
                        .withDetail("This could be either a client-software bug or evidence of an attempted "
                                + "man-in-the-middle attack."));
                return;
            }
            ClientTls.startAfterSslRequest(channel, context.tls(), loginTimeoutMillis());
        } else {
            // SSLRequest or GSSENCRequest: no encryption yet, and the client may go on in plain text.
            lastNegotiation = request.getClass();
            ByteBuf out = channel.alloc().buffer(1);
            out.writeByte('N');
            channel.writeAndFlush(out, channel.voidPromise());
        }
    }

    /**
     * The client's cancel connection closes only once PostgreSQL has acted on the cancel: libpq and pgjdbc take the
     * close as delivery and go on with their next query, which a cancel still on its way would hit.
     */
    private void onCancelRequest(CancelRequest cancel) {
        cancelling = true;
        Future<Void> delivered = CancelRouting.route(context.proxy(), cancel, channel.eventLoop());
        if (delivered == null) {
            session.close(ClientCloseReason.CANCEL_REQUEST);
            return;
        }
        delivered.addListener(f -> channel.eventLoop().execute(() -> session.close(ClientCloseReason.CANCEL_REQUEST)));
    }

    private void onStartupMessage(StartupMessage message) {
        startup = message;
        if (message.majorVersion() != 3) {
            refuse(unsupportedProtocol(message.majorVersion(), message.minorVersion()));
            return;
        }
        List<String> unsupportedOptions = message.parameters().keySet().stream()
                .filter(name -> name.startsWith("_pq_.")).toList();
        if (message.minorVersion() > NEWEST_MINOR || !unsupportedOptions.isEmpty()) {
            ByteBuf out = channel.alloc().buffer();
            BackendMessages.negotiateProtocolVersion(out, NEWEST_MINOR, unsupportedOptions);
            channel.write(out, channel.voidPromise());
        }
        ProxyConfig config = context.proxy().config();
        if (message.user() == null || message.user().isEmpty()) {
            refuse(ErrorResponse.fatal("28000", "no PostgreSQL user name specified in startup packet"));
        } else if (context.clientCount().get() > config.listen().maxClientConnections()) {
            refuse(ErrorResponse.fatal("53300", "sorry, too many clients already (max_client_connections is "
                    + config.listen().maxClientConnections() + ")"));
        } else if (context.tls().settings().mode() == ListenTls.Mode.REQUIRE && !ClientTls.isUp(channel)) {
            refuse(ErrorResponse.fatal("28000", "pgwarden: TLS is required for connections")
                    .withHint("connect with sslmode=require (or verify-ca, verify-full); listen.tls.mode is require"));
        } else {
            authenticate(message, config);
        }
    }

    /** The access rules' verdict, then the user (looked up in PostgreSQL if need be), then its authentication. */
    private void authenticate(StartupMessage message, ProxyConfig config) {
        boolean tls = ClientTls.isUp(channel);
        AccessRules.Verdict access = AccessRules.decide(config.access(), message.database(), message.user(),
                channel.remoteAddress(), tls);
        if (access.refused()) {
            log.info("event=access_refused client={} addr={} user={} database={} tls={} rule={}", session.id(),
                    channel.remoteAddress(), LogValues.quote(message.user()), LogValues.quote(message.database()),
                    tls, access.ruleLabel());
            session.fatal(AccessRules.refusal(message.database(), message.user(), channel.remoteAddress(), tls),
                    ClientCloseReason.LOGIN_REFUSED);
            return;
        }
        session.authenticating(message);
        // A cert login ends with the StartupMessage, where ClientHandler routes it; and with no password exchange
        // there is no key for pass-through, so its users are the ones under users:.
        if (access.method() != AccessRule.Method.CERT && UserLookup.applies(config, message.user())
                && !message.database().equals(config.admin().database())) {
            // Every such user is looked up, known or not: the exchange and its timing must not tell them apart.
            context.lookups().find(config, message.database(), message.user(), channel.eventLoop())
                    .thenAccept(outcome -> channel.eventLoop().execute(() -> onLookedUp(outcome, access)));
            return;
        }
        startAuthentication(config.user(message.user()).orElse(null), access);
    }

    /** On the channel's loop; the client may have left, or been timed out, meanwhile. */
    private void onLookedUp(LookupOutcome outcome, AccessRules.Verdict access) {
        if (session.state() != ClientState.AUTHENTICATING || !channel.isActive()) {
            return;
        }
        if (outcome.error() != null) {
            refuse(outcome.error());
            return;
        }
        lookupReason = outcome.user() == null ? outcome.reason() : null;
        startAuthentication(outcome.user(), access);
    }

    private void startAuthentication(UserConfig found, AccessRules.Verdict access) {
        user = found;
        if (access.method() == AccessRule.Method.CERT) {
            authenticateByCertificate();
            return;
        }
        authenticator = new ClientAuthenticator(startup.user(), user, context.credentials(),
                ClientTls.channelBinding(channel), access.passwordMethod());
        ByteBuf out = channel.alloc().buffer();
        authenticator.start(out);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    /**
     * PostgreSQL's cert method: the handshake verified the certificate against listen.tls.ca_file, and its CN must
     * be the user name; no password is asked for.
     */
    private void authenticateByCertificate() {
        String commonName = ClientTls.peerCommonName(channel);
        if (commonName != null && user != null && commonName.equals(user.name())) {
            onAuthenticated();
            return;
        }
        log.info("event=auth_failed client={} addr={} user={} reason={}", session.id(), channel.remoteAddress(),
                LogValues.quote(startup.user()), LogValues.quote(commonName == null ? "no client certificate"
                        : "certificate CN " + commonName + " is not the user name or the user is not configured"));
        throttle.failed(channel.remoteAddress());
        session.fatal(commonName == null
                ? ErrorResponse.fatal("28000", "connection requires a valid client certificate")
                : ErrorResponse.fatal("28000", "certificate authentication failed for user \"" + startup.user()
                        + "\""), ClientCloseReason.AUTHENTICATION_FAILED);
    }

    /** One message of the authentication exchange; takes ownership of it. */
    void onMessage(ByteBuf message) {
        if (authenticator == null) {
            // Sent before it was asked for, while its user is being looked up: PostgreSQL would not read it either.
            message.release();
            refuse(ErrorResponse.fatal("08P01", "unexpected message before the authentication request"));
            return;
        }
        ByteBuf out = channel.alloc().buffer();
        try {
            boolean done = authenticator.onMessage(message, out);
            if (out.isReadable()) {
                channel.write(out.retain(), channel.voidPromise());
            }
            if (done) {
                // Its nonces and SCRAM state are of no further use; ten thousand idle clients would keep them.
                authenticator = null;
                onAuthenticated();
            } else {
                channel.flush();
            }
        } catch (AuthenticationException | RuntimeException e) {
            log.info("event=auth_failed client={} addr={} user={} reason={}", session.id(),
                    channel.remoteAddress(), LogValues.quote(startup.user()),
                    LogValues.quote(lookupReason != null ? lookupReason : e.getMessage()));
            throttle.failed(channel.remoteAddress());
            session.fatal(ErrorResponse.fatal("28P01", "password authentication failed for user \""
                    + startup.user() + "\""), ClientCloseReason.AUTHENTICATION_FAILED);
        } finally {
            out.release();
            message.release();
        }
    }

    private void onAuthenticated() {
        ProxyConfig config = context.proxy().config();
        if (startup.database().equals(config.admin().database())) {
            loginToAdminConsole(config);
            return;
        }
        String replicationMode = startup.parameters().get("replication");
        DatabaseChoice choice = DatabaseChoice.of(config, startup.database(), replicationMode).orElse(null);
        if (choice == null) {
            refuse(DatabaseChoice.missing(startup.database()));
            return;
        }
        DatabaseConfig database = choice.database();
        Keepalive keepalive = database.pool().client().keepalive();
        SocketOptions.apply(channel, keepalive.idle(), keepalive.interval(), keepalive.count(), Duration.ZERO);
        decoder.setMaxMessageLength(context.maxMessageLength());
        if (ReplicationRelay.isRequested(replicationMode)) {
            replication = ReplicationRelay.open(session, channel, context.proxy(), database, user,
                    startup.parameters());
            return;
        }
        BackendPool pool = choice.pool(context.proxy().pools(), user).orElse(null);
        if (pool == null) {
            refuse(choice.noPool());
            return;
        }
        decoder.streamLargeMessages();
        session.start(new LoginResult(user, database, pool));
    }

    /** The virtual admin database: no pool, no backend; its queries are answered by the console. */
    private void loginToAdminConsole(ProxyConfig config) {
        if (!config.admin().users().contains(user.name())) {
            refuse(ErrorResponse.fatal("42501", "permission denied: user \"" + user.name()
                    + "\" is not in admin.users, so it may not use the admin console \"" + config.admin().database()
                    + "\""));
            return;
        }
        admin = new AdminConnection(context.adminConsole().get());
        log.info("event=client_login client={} addr={} user={} database={} mode=admin", session.id(),
                channel.remoteAddress(), LogValues.quote(user.name()), LogValues.quote(startup.database()));
        session.startAdmin(AdminConnection.loginParameters(context.proxy().pools().pools()));
    }

    private long loginTimeoutMillis() {
        return context.proxy().config().defaults().client().loginTimeout().toMillis();
    }

    private static ErrorResponse unsupportedProtocol(int major, int minor) {
        return ErrorResponse.fatal("0A000", "unsupported frontend protocol " + major + "." + minor
                + ": server supports 3.0 to 3." + NEWEST_MINOR);
    }

    private void refuse(ErrorResponse error) {
        if (session.state() == ClientState.STARTUP) {
            context.preLoginErrors().report(session.id(), channel.remoteAddress(), error);
        }
        session.fatal(error, ClientCloseReason.LOGIN_REFUSED);
    }
}
