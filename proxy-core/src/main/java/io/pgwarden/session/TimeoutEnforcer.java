package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.cluster.Cluster;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.protocol.ErrorResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies what {@link ClientTimeouts} decides, for one session, on its own event loop. */
final class TimeoutEnforcer {

    private static final Logger log = LoggerFactory.getLogger(TimeoutEnforcer.class);
    /** More actions than one round can sensibly take: a bound, in case an action fails to change anything. */
    private static final int MAX_ACTIONS_PER_ROUND = 4;

    private TimeoutEnforcer() {
    }

    static void tick(ClientSession s, ProxyContext context, long now) {
        BackendPool pool = s.pool();
        if (pool != null && pool.isPaused() && s.state().isWaiting()) {
            // PAUSE holds transactions without errors until RESUME.
            s.times.waitClockStart = now;
        }
        Cluster cluster = pool != null && s.state().isWaiting()
                ? context.pools().clusters().of(pool.key().database()).orElse(null) : null;
        ClientTimeouts.Hold hold = null;
        // PAUSE holds without any limit, failover or not.
        if (cluster != null && cluster.holdingSinceNanos() >= 0 && !pool.isPaused()) {
            hold = new ClientTimeouts.Hold(cluster.holdingSinceNanos(), cluster.settings().failoverTimeout());
            // query_wait_timeout counts from the failover's end: a client held 20 s must not time out in the moment
            // between the new primary being found and its backend reaching the client.
            s.times.waitClockStart = now;
        }
        PoolSettings settings = settingsOf(s, context.config());
        for (int i = 0; i < MAX_ACTIONS_PER_ROUND; i++) {
            ClientTimeouts.Action action = ClientTimeouts.decide(now, s.state(), s.times, settings, pool != null,
                    hold);
            if (action == ClientTimeouts.Action.NONE || !apply(action, s, context, settings, now, cluster)) {
                return;
            }
        }
    }

    /** The settings in force for a client: its database's, or the global ones before one is known. */
    static PoolSettings settingsOf(ClientSession s, ProxyConfig config) {
        BackendPool pool = s.pool();
        if (pool != null) {
            return pool.settings();
        }
        StartupMessage startup = s.startup;
        return startup == null ? config.defaults()
                : config.database(startup.database()).map(DatabaseConfig::pool).orElse(config.defaults());
    }

    /** The non-null ones, a line each; null when there are none. */
    private static String joinLines(String first, String second) {
        return first == null ? second : second == null ? first : first + "\n" + second;
    }

    /** Returns false when the action changed nothing (so deciding again would give it again). */
    private static boolean apply(ClientTimeouts.Action action, ClientSession s, ProxyContext context,
                                 PoolSettings settings, long now, Cluster cluster) {
        SessionTimes t = s.times;
        switch (action) {
            case FAILOVER_TIMEOUT -> {
                if (s.pool().cancelWaitDescribing(s.wait) == null) {
                    return false;
                }
                context.metrics().timeoutFired("failover");
                s.wait.failWaitingRequest(FailoverWait.timeoutError(cluster, now - t.waitStart));
            }
            case FAILOVER_NOTICE -> {
                t.failoverNoticeSent = true;
                t.waitNoticeSent = true;
                ByteBuf out = s.channel().alloc().buffer();
                FailoverWait.notice(cluster, now).encodeAsNotice(out);
                s.channel().writeAndFlush(out, s.channel().voidPromise());
            }
            case WAIT_TIMEOUT -> {
                String picture = s.pool().cancelWaitDescribing(s.wait);
                if (picture == null) {
                    return false;
                }
                context.metrics().timeoutFired("query_wait");
                String lastError = s.pool().lastConnectError();
                String holders = BackendHolders.describe(context, s.pool());
                s.wait.failWaitingRequest(ErrorResponse.error("53300", "pgwarden: no server connection available after "
                                + "waiting " + (now - t.waitStart) / 1_000_000 + " ms (query_wait_timeout "
                                + settings.queryWaitTimeout().toMillis() + " ms): " + picture)
                        .withDetail(joinLines(holders,
                                lastError != null ? "last attempt to connect to PostgreSQL failed: " + lastError : null))
                        .withHint("raise max_size or query_wait_timeout for this database, or look for clients "
                                + "that hold connections in long transactions"));
            }
            case LOGIN_TIMEOUT -> {
                context.metrics().timeoutFired("login");
                s.fatal(ErrorResponse.fatal("08P01", "pgwarden: login not completed within client.login_timeout ("
                        + settings.client().loginTimeout().toMillis() + " ms)"), ClientCloseReason.LOGIN_TIMEOUT);
            }
            case WAIT_NOTICE -> {
                t.waitNoticeSent = true;
                ByteBuf out = s.channel().alloc().buffer();
                new ErrorResponse("NOTICE", "00000", "pgwarden: waiting for a server connection for "
                        + (now - t.waitStart) / 1_000_000 + " ms: " + s.pool().describe(),
                        BackendHolders.describe(context, s.pool()), null)
                        .encodeAsNotice(out);
                s.channel().writeAndFlush(out, s.channel().voidPromise());
            }
            case IDLE_IN_TRANSACTION_WARNING -> {
                t.warnedForTransactionAt = t.transactionStart;
                long quietMillis = (now - t.lastActivity) / 1_000_000;
                ClientView v = s.view();
                log.warn("event=idle_in_transaction client={} user={} database={} application_name={} addr={} "
                                + "xact_age_ms={} idle_ms={} xact_start_statement={}", s.id(),
                        LogValues.quote(v.user()),
                        LogValues.quote(v.database()), LogValues.quote(v.applicationName()), v.address(),
                        v.transactionAgeMillis(), quietMillis, LogValues.quote(v.transactionStartStatement()));
                context.events().add(s.pool().key().toString(), "idle_in_transaction",
                        "client#" + s.id() + " idle in transaction for " + quietMillis + " ms");
            }
            case IDLE_IN_TRANSACTION_KILL -> {
                long limit = settings.client().idleInTransactionTimeout().toMillis();
                context.metrics().timeoutFired("idle_in_transaction");
                context.metrics().clientKilled("idle_in_transaction_timeout");
                s.fatal(ErrorResponse.fatal("25P03", "terminating connection due to idle-in-transaction timeout "
                        + "(pgwarden client.idle_in_transaction_timeout " + limit + " ms); "
                        + "the transaction was rolled back"), ClientCloseReason.IDLE_IN_TRANSACTION_TIMEOUT);
            }
            case QUERY_CANCEL -> {
                BackendConnection b = s.linkedBackend();
                if (b == null) {
                    return false;
                }
                t.queryCancelSent = true;
                context.metrics().timeoutFired("query");
                log.info("event=query_timeout client={} backend_pid={} after_ms={}", s.id(), b.processId(),
                        (now - t.requestStart) / 1_000_000);
                context.cancelForwarder().cancel(s.eventLoop(), b);
            }
            case IDLE_KILL -> {
                context.metrics().timeoutFired("client_idle");
                s.fatal(ErrorResponse.fatal("57P05", "terminating connection due to idle-session timeout (pgwarden "
                        + "client.idle_timeout " + settings.client().idleTimeout().toMillis() + " ms)"),
                        ClientCloseReason.IDLE_TIMEOUT);
            }
            case NONE -> {
                return false;
            }
        }
        return true;
    }
}
