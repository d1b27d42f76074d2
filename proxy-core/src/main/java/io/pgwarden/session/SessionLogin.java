package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of an authenticated client's login: the parameters it is told (from a backend that applied its startup
 * settings, or from what the pool already knows), its cancel key, and ReadyForQuery.
 */
final class SessionLogin {

    private static final Logger log = LoggerFactory.getLogger(SessionLogin.class);

    private final ClientSession session;
    private final ProxyContext context;
    /** What the client's startup settings still need before it may log in; null when nothing. */
    private StartupCheck check;

    SessionLogin(ClientSession session, ProxyContext context) {
        this.session = session;
        this.context = context;
    }

    void start(LoginResult login) {
        session.startOn(login.pool(), context.sessions().clientsOf(login.pool().key()),
                PoolingMode.of(login.database().pool(), context.statementNames()));
        session.settingsSync.start(session.startup.parameters(), login.pool().serverParameters(),
                session.poolClients);
        session.applicationName = session.startup.parameters().get("application_name");
        log.info("event=client_login client={} addr={} user={} database={} mode={}", session.id(), session.remote(),
                LogValues.quote(login.user().name()), LogValues.quote(login.database().name()), session.mode.label());
        Map<String, String> parameters = login.pool().serverParameters();
        check = StartupCheck.of(session.startup.parameters(), parameters, session.poolClients);
        if (session.mode instanceof TransactionPooling && parameters != null && check == null) {
            complete(context.cancelRegistry().register(session),
                    session.settingsSync.reportedWithoutBackend(parameters));
            return;
        }
        // Session mode keeps this backend; transaction mode borrows one only to learn the server's parameters, or
        // to hear whether PostgreSQL takes the client's settings.
        session.transition(ClientState.LOGIN_WAITING);
        session.wait.waitForBackend();
    }

    /**
     * The client's startup settings are checked if the pool cannot vouch for them, then go on; the login then
     * reports the values as the server spells them.
     */
    void onBackend(BackendConnection acquired) {
        StartupCheck pending = check;
        if (pending == null) {
            applySettings(acquired);
            return;
        }
        // Kept until answered: a backend lost meanwhile sends the login on to another, which must check too.
        Runnable accepted = () -> {
            check = null;
            applySettings(acquired);
        };
        // As PostgreSQL, which ends a login whose settings it refuses; the backend is as it was.
        pending.run(session.link, session.poolClients, accepted,
                fatal -> session.fatal(fatal, ClientCloseReason.LOGIN_REFUSED));
        session.link.flushBackend();
    }

    private void applySettings(BackendConnection acquired) {
        Map<String, String> parameters = new LinkedHashMap<>(acquired.parameters());
        BackendLink link = session.link;
        link.captureLoginParameters(parameters);
        String sql = session.settingsSync.sqlFor(acquired);
        if (sql == null) {
            finish(acquired, parameters);
            return;
        }
        link.hidden().settings(sql, message -> {
            if (Frames.tag(message) == Tags.Backend.READY_FOR_QUERY) {
                finish(acquired, parameters);
            }
        });
        link.flushBackend();
    }

    private void finish(BackendConnection acquired, Map<String, String> parameters) {
        session.link.captureLoginParameters(null);
        session.settingsSync.learnSpellings(parameters);
        boolean keeps = session.mode.keepsBackend();
        complete(keeps ? context.cancelRegistry().register(session, acquired.processId())
                : context.cancelRegistry().register(session), parameters);
        if (!keeps) {
            // This backend only served the login; requests get one when they arrive.
            session.wait.releaseBackend(acquired);
            session.wait.waitIfQueued();
            return;
        }
        session.recovery.restoreOn(session.link, session.mode.sessionState());
        session.wait.drainQueue();
    }

    /** AuthenticationOk, the parameters, the cancel key and ReadyForQuery, in one write. */
    void complete(CancelRegistry.Key key, Map<String, String> parameters) {
        session.key = key;
        ByteBuf out = session.channel().alloc().buffer();
        BackendMessages.authenticationOk(out);
        parameters.forEach((name, value) -> BackendMessages.parameterStatus(out, name, value));
        BackendMessages.backendKeyData(out, key.processId(), key.secretKey());
        BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
        session.channel().writeAndFlush(out, session.channel().voidPromise());
        session.transition(ClientState.IDLE);
        // Of no further use; ten thousand idle clients would keep it.
        session.login = null;
    }
}
