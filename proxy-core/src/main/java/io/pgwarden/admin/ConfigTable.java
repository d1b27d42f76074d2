package io.pgwarden.admin;

import io.pgwarden.config.AnyDatabaseConfig;
import io.pgwarden.config.ClusterSettings;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.HostPort;
import io.pgwarden.config.LoginThrottleConfig;
import io.pgwarden.config.PoolSettings;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.config.ServerSettings;
import io.pgwarden.config.ServerTlsMode;
import java.util.ArrayList;
import java.util.List;

/** SHOW CONFIG: the configuration in force, one setting per row, with passwords left out. */
final class ConfigTable {

    private ConfigTable() {
    }

    static AdminResult of(ProxyConfig config) {
        return of(config, "");
    }

    /** @param transportInUse what listen.transport came to at start, shown next to it when it was auto */
    static AdminResult of(ProxyConfig config, String transportInUse) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("listen.host", config.listen().host()));
        rows.add(List.of("listen.port", Integer.toString(config.listen().port())));
        rows.add(List.of("listen.max_client_connections", Integer.toString(config.listen().maxClientConnections())));
        rows.add(List.of("listen.tls.mode", config.listen().tls().mode().name().toLowerCase()));
        if (config.listen().tls().enabled()) {
            rows.add(List.of("listen.tls.cert_file", config.listen().tls().certFile()));
            rows.add(List.of("listen.tls.client_cert", config.listen().tls().clientCert().name().toLowerCase()));
        }
        LoginThrottleConfig throttle = config.listen().loginThrottle();
        rows.add(List.of("listen.login_throttle.failures", Integer.toString(throttle.failures())));
        rows.add(List.of("listen.login_throttle.window", throttle.window().toString()));
        rows.add(List.of("listen.login_throttle.max_delay", throttle.maxDelay().toString()));
        rows.add(List.of("listen.shutdown_timeout", config.listen().shutdownTimeout().toString()));
        String transport = config.listen().transport().yamlName();
        rows.add(List.of("listen.transport", transportInUse.isEmpty() || transportInUse.equals(transport) ? transport
                : transport + " (" + transportInUse + ")"));
        rows.add(List.of("listen.reuse_port", Boolean.toString(config.listen().reusePort())));
        if (config.listen().handoverSocket() != null) {
            rows.add(List.of("listen.handover_socket", config.listen().handoverSocket()));
        }
        if (config.listen().peers().enabled()) {
            rows.add(List.of("listen.peer_id", Integer.toString(config.listen().peers().selfId())));
            rows.add(List.of("listen.peers", config.listen().peers().toString()));
        }
        add(rows, "defaults", config.defaults());
        for (DatabaseConfig db : config.databases().values()) {
            String prefix = "databases." + db.name();
            addCluster(rows, prefix, db);
            rows.add(List.of(prefix + ".dbname", db.dbname()));
            addForcedUser(rows, prefix, db);
            add(rows, prefix, db.pool());
        }
        AnyDatabaseConfig any = config.anyDatabase();
        if (any != null) {
            String prefix = "databases.\"*\"";
            addCluster(rows, prefix, any.template());
            rows.add(List.of(prefix + ".auto_database_idle_timeout", any.idleTimeout().toString()));
            rows.add(List.of(prefix + ".max_auto_pools", Integer.toString(any.maxPools())));
            addForcedUser(rows, prefix, any.template());
            add(rows, prefix, any.template().pool());
        }
        config.users().values().forEach(u -> rows.add(List.of("users." + u.name() + ".auth", u.auth().yamlName())));
        rows.add(List.of("admin.database", config.admin().database()));
        rows.add(List.of("admin.users", String.join(",", config.admin().users())));
        if (config.auth() != null) {
            rows.add(List.of("auth.user", config.auth().user()));
            rows.add(List.of("auth.password", config.auth().password() != null ? "********" : "(from users)"));
            rows.add(List.of("auth.query", config.auth().query()));
            rows.add(List.of("auth.database", config.auth().database() != null ? config.auth().database()
                    : "(the database the client asks for)"));
            rows.add(List.of("auth.cache_ttl", config.auth().cacheTtl().toString()));
        }
        for (int i = 0; i < config.access().size(); i++) {
            rows.add(List.of("access[" + i + "]", config.access().get(i).describe()));
        }
        return AdminResult.table(List.of("key", "value"), rows);
    }

    /** One server as host and port, as before hosts existed; several as the list, with how one is chosen. */
    private static void addCluster(List<List<String>> rows, String prefix, DatabaseConfig db) {
        ClusterSettings cluster = db.cluster();
        if (!cluster.severalHosts()) {
            rows.add(List.of(prefix + ".host", db.host()));
            rows.add(List.of(prefix + ".port", Integer.toString(db.port())));
        } else {
            rows.add(List.of(prefix + ".hosts", cluster.hosts().stream().map(HostPort::toString)
                    .collect(java.util.stream.Collectors.joining(","))));
        }
        rows.add(List.of(prefix + ".target_session_attrs", cluster.targetSessionAttrs().configName()));
        rows.add(List.of(prefix + ".failover_timeout", cluster.failoverTimeout().toString()));
    }

    private static void addForcedUser(List<List<String>> rows, String prefix, DatabaseConfig db) {
        if (db.user() != null) {
            rows.add(List.of(prefix + ".user", db.user()));
            rows.add(List.of(prefix + ".password", db.password() == null ? "(none)" : "***"));
        }
    }

    private static void add(List<List<String>> rows, String prefix, PoolSettings p) {
        rows.add(List.of(prefix + ".pool_mode", p.poolMode().name().toLowerCase()));
        rows.add(List.of(prefix + ".min_size", Integer.toString(p.minSize())));
        rows.add(List.of(prefix + ".max_size", Integer.toString(p.maxSize())));
        rows.add(List.of(prefix + ".query_wait_timeout", p.queryWaitTimeout().toString()));
        rows.add(List.of(prefix + ".query_timeout", p.queryTimeout().toString()));
        rows.add(List.of(prefix + ".max_prepared_statements", Integer.toString(p.maxPreparedStatements())));
        rows.add(List.of(prefix + ".server.check_delay", p.server().checkDelay().toString()));
        rows.add(List.of(prefix + ".server.replay_check_after", p.server().replayCheckAfter().toString()));
        rows.add(List.of(prefix + ".server.lifetime", p.server().lifetime().toString()));
        rows.add(List.of(prefix + ".server.idle_timeout", p.server().idleTimeout().toString()));
        rows.add(List.of(prefix + ".server.tls.mode", p.server().tls().mode().spelling()));
        rows.add(List.of(prefix + ".server.allow_cleartext_password", cleartextPassword(p.server())));
        rows.add(List.of(prefix + ".server.allow_md5_password", Boolean.toString(p.server().allowMd5Password())));
        rows.add(List.of(prefix + ".client.idle_in_transaction_timeout",
                p.client().idleInTransactionTimeout().toString()));
        rows.add(List.of(prefix + ".client.idle_in_transaction_warning",
                p.client().idleInTransactionWarning().toString()));
        rows.add(List.of(prefix + ".client.leak_after", p.client().leakAfter().toString()));
    }

    /** Left unset, the rule depends on server.tls, so the row says what it comes to for this database. */
    private static String cleartextPassword(ServerSettings server) {
        return switch (server.cleartextPassword()) {
            case ALWAYS -> "true";
            case NEVER -> "false";
            case OVER_VERIFIED_TLS -> server.tls().mode() != ServerTlsMode.DISABLE && server.tls().verifiesChain()
                    ? "only over TLS with a verified certificate (not set)"
                    : "false (not set, and server.tls does not verify the certificate)";
        };
    }
}
