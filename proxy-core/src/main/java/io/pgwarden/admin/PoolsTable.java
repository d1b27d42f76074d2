package io.pgwarden.admin;

import static io.pgwarden.admin.AdminConsole.nz;
import static io.pgwarden.admin.AdminConsole.seconds;
import static io.pgwarden.admin.AdminConsole.str;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolStats;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientState;
import io.pgwarden.session.ClientView;
import io.pgwarden.session.PoolClients;
import io.pgwarden.session.ProxyContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** SHOW POOLS, SHOW STATS and SHOW SERVERS: per-pool counts, traffic and backends. */
final class PoolsTable {

    private PoolsTable() {
    }

    static List<BackendPool> sortedPools(ProxyContext context) {
        List<BackendPool> pools = new ArrayList<>(context.pools().pools());
        pools.sort(Comparator.comparing(p -> p.key().toString()));
        return pools;
    }

    static AdminResult pools(ProxyContext context) {
        List<List<String>> rows = new ArrayList<>();
        for (BackendPool pool : sortedPools(context)) {
            PoolClients clients = context.sessions().clientsOf(pool.key());
            BackendPool.Counts servers = pool.counts();
            long maxWaitMillis = pool.longestWaitNanos(System.nanoTime()) / 1_000_000;
            int active = clients.count(ClientState.ACTIVE);
            int idleInTransaction = clients.count(ClientState.IN_TRANSACTION)
                    + clients.count(ClientState.FAILED_TRANSACTION);
            rows.add(List.of(pool.key().database(), pool.key().user(),
                    str(active + idleInTransaction), str(clients.count(ClientState.WAITING)), "0", "0",
                    str(servers.active()), "0", "0", str(servers.idle()), "0", str(servers.testing()),
                    str(servers.opening()), str(maxWaitMillis / 1000), str((maxWaitMillis % 1000) * 1000),
                    pool.settings().poolMode().name().toLowerCase(Locale.ROOT),
                    str(clients.count(ClientState.IDLE)), str(idleInTransaction), str(active),
                    str(pool.settings().maxSize()), pool.isPaused() ? "1" : "0", nz(servers.lastConnectError()),
                    ClusterColumns.target(context, pool.key().database())));
        }
        return AdminResult.table(List.of("database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req",
                "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used",
                "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode", "cl_idle", "cl_idle_in_transaction",
                "cl_active_query", "max_size", "paused", "last_connect_error", "target"), rows);
    }

    static AdminResult stats(ProxyContext context) {
        List<List<String>> rows = new ArrayList<>();
        for (BackendPool pool : sortedPools(context)) {
            PoolStats s = pool.stats();
            rows.add(List.of(pool.key().database(), pool.key().user(), str(s.transactions()), str(s.queries()),
                    str(s.bytesIn()), str(s.bytesOut()), str(s.waitMicros())));
        }
        return AdminResult.table(List.of("database", "user", "total_xact_count", "total_query_count",
                "total_received", "total_sent", "total_wait_time"), rows);
    }

    static AdminResult servers(ProxyContext context) {
        List<List<String>> rows = new ArrayList<>();
        for (BackendPool pool : sortedPools(context)) {
            for (BackendConnection b : pool.idleSnapshot()) {
                rows.add(server(pool, b, ""));
            }
            for (ClientSession session : context.sessions().all()) {
                BackendConnection b = session.linkedBackend();
                if (session.pool() == pool && b != null) {
                    rows.add(server(pool, b, "client#" + session.id()));
                }
            }
        }
        // Replication backends belong to no pool: listed after the pools', each with the one client it serves.
        for (ClientSession session : context.sessions().all()) {
            BackendConnection b = session.linkedBackend();
            if (session.state() == ClientState.REPLICATION && b != null) {
                ClientView v = session.view();
                rows.add(List.of("S", nz(v.user()), nz(v.database()), "replication",
                        b.serverAddress().getHostString(), str(b.serverAddress().getPort()), str(b.processId()),
                        seconds(b.ageNanos() / 1_000_000), seconds(v.stateAgeMillis()), "client#" + session.id(),
                        ClusterColumns.host(b), ClusterColumns.role(b)));
            }
        }
        return AdminResult.table(List.of("type", "user", "database", "state", "addr", "port", "remote_pid",
                "age_s", "idle_s", "link", "host", "role"), rows);
    }

    private static List<String> server(BackendPool pool, BackendConnection b, String link) {
        return List.of("S", pool.key().user(), pool.key().database(), b.state().name().toLowerCase(Locale.ROOT),
                b.serverAddress().getHostString(), str(b.serverAddress().getPort()), str(b.processId()),
                seconds(b.ageNanos() / 1_000_000), seconds((System.nanoTime() - b.verifiedAtNanos()) / 1_000_000), link,
                ClusterColumns.host(b), ClusterColumns.role(b));
    }
}
