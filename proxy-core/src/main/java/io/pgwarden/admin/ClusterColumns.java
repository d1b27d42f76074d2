package io.pgwarden.admin;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.cluster.Cluster;
import io.pgwarden.session.ProxyContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The SHOW columns about a database's hosts: its target, its failover state, each host's role. */
final class ClusterColumns {

    private ClusterColumns() {
    }

    static Optional<Cluster> of(ProxyContext context, String database) {
        return context.pools().clusters().of(database);
    }

    /** The host new backends go to, or empty while none is known (before the first backend, during a failover). */
    static String target(ProxyContext context, String database) {
        return of(context, database).map(Cluster::target).map(Object::toString).orElse("");
    }

    /** {@code none}, {@code searching 2.3s} (no host fits since), or {@code split_brain host,host}. */
    static String failover(ProxyContext context, String database) {
        Optional<Cluster> cluster = of(context, database);
        if (cluster.isEmpty()) {
            return "none";
        }
        Cluster.Stats stats = cluster.get().stats();
        long since = cluster.get().holdingSinceNanos();
        String searching = since < 0 ? null
                : String.format(Locale.ROOT, "searching %.1fs", (System.nanoTime() - since) / 1e9);
        if (!stats.splitBrain().isEmpty()) {
            String hosts = String.join(",", stats.splitBrain().stream().map(Object::toString).toList());
            return "split_brain " + hosts + (searching == null ? "" : "; " + searching);
        }
        return searching == null ? "none" : searching;
    }

    /** Each host with its last known role or error, e.g. {@code 127.0.0.1:5432=primary, 127.0.0.1:5433=standby}. */
    static String hostRoles(ProxyContext context, String database) {
        Optional<Cluster> cluster = of(context, database);
        if (cluster.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (Cluster.HostState h : cluster.get().snapshot().hosts()) {
            // A login that found a role that does not fit leaves that role and the mismatch ("is a standby ...").
            boolean roleCurrent = h.role() != null && (h.lastError() == null || h.lastError().startsWith("is a "));
            String what = roleCurrent ? h.role().describe() : h.lastError() != null ? "unreachable" : "unknown";
            parts.add(h.host() + "=" + what);
        }
        return String.join(", ", parts);
    }

    /** The role the server had when this backend logged in. */
    static String role(BackendConnection b) {
        ServerRole role = b.roleAtLogin();
        if (role == null) {
            role = ServerRole.of(b.parameters()).orElse(null);
        }
        return role == null ? "" : role.describe();
    }

    static String host(BackendConnection b) {
        return b.serverAddress().getHostString() + ":" + b.serverAddress().getPort();
    }
}
