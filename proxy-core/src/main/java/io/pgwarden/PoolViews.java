package io.pgwarden;

import io.pgwarden.metrics.PoolView;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolStats;
import io.pgwarden.session.ClientState;
import io.pgwarden.session.PoolClients;
import io.pgwarden.session.ProxyContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Turns pools and their client counts into the per-pool views the metrics and the readiness probe export. */
final class PoolViews {

    private PoolViews() {
    }

    /** What the pools are now, for a metrics scrape: reading them creates no pool and opens no connection. */
    static List<PoolView> of(ProxyContext context) {
        return of(context, false);
    }

    /**
     * The readiness probe's question, "can every configured database serve now?": a database with no pool yet gets
     * one (as the first user), and a pool without a backend opens one to find out.
     */
    static List<PoolView> probed(ProxyContext context) {
        var config = context.config();
        config.users().values().stream().findFirst().ifPresent(user -> config.databases().values().forEach(db -> {
            if (context.pools().pools().stream().noneMatch(p -> p.key().database().equals(db.name()))) {
                context.pools().poolFor(db, user);
            }
        }));
        return of(context, true);
    }

    private static List<PoolView> of(ProxyContext context, boolean probe) {
        long now = System.nanoTime();
        List<PoolView> views = new ArrayList<>();
        for (BackendPool pool : context.pools().pools()) {
            PoolClients c = context.sessions().clientsOf(pool.key());
            BackendPool.Counts servers = pool.counts();
            PoolStats stats = pool.stats();
            boolean live = servers.active() + servers.idle() + servers.testing() > 0;
            if (!live && probe) {
                // Readiness means "can serve now": with no backend, find out by opening one.
                pool.probe();
            }
            boolean ready = live || servers.lastConnectError() == null;
            String detail = live ? servers.active() + servers.idle() + " server connections"
                    : servers.lastConnectError() != null ? servers.lastConnectError() : "no server connection yet";
            views.add(new PoolView(pool.key().database(), pool.key().user(),
                    pool.settings().poolMode().name().toLowerCase(Locale.ROOT), c.count(ClientState.ACTIVE),
                    c.count(ClientState.IDLE),
                    c.count(ClientState.IN_TRANSACTION) + c.count(ClientState.FAILED_TRANSACTION),
                    c.count(ClientState.WAITING),
                    servers.active(), servers.idle(), servers.testing(), servers.opening(), pool.settings().maxSize(),
                    pool.longestWaitNanos(now) / 1_000_000, stats.transactions(), stats.queries(), stats.bytesIn(),
                    stats.bytesOut(), pool.isPaused(), ready, detail));
        }
        return views;
    }
}
