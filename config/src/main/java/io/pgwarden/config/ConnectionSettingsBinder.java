package io.pgwarden.config;

import java.util.List;
import java.util.Map;

/**
 * Binds the {@code server:} and {@code client:} sections. Every read falls back to the inherited value, so a
 * database's section overrides the defaults' key by key, nested {@code keepalive:} included.
 */
final class ConnectionSettingsBinder {
    static final String SERVER = "server";
    static final String CLIENT = "client";

    private static final List<String> SERVER_KEYS = List.of("keepalive", "tcp_user_timeout", "check_query",
            "check_delay", "check_timeout", "health_check_interval", "lifetime", "idle_timeout", "connect_timeout", "replay_check_after",
            "allow_cleartext_password", "allow_md5_password");
    private static final List<String> CLIENT_KEYS = List.of("keepalive", "idle_timeout", "idle_in_transaction_timeout",
            "idle_in_transaction_warning", "login_timeout", "leak_after");
    private static final List<String> KEEPALIVE_KEYS = List.of("idle", "interval", "count");

    private final ConfigReader reader;

    ConnectionSettingsBinder(ConfigReader reader) {
        this.reader = reader;
    }

    /** @param parent the path holding the section, e.g. {@code defaults} or {@code databases.appdb} */
    ServerSettings server(String parent, Map<String, Object> parentMap, ServerSettings inherited) {
        String path = ConfigReader.child(parent, SERVER);
        Map<String, Object> map = section(path, parentMap.get(SERVER), SERVER_KEYS);
        return new ServerSettings(
                keepalive(path, map, inherited.keepalive()),
                reader.read(path, map, "tcp_user_timeout", inherited.tcpUserTimeout(), reader::durationOrZero),
                reader.read(path, map, "check_query", inherited.checkQuery(), reader::string),
                reader.read(path, map, "check_delay", inherited.checkDelay(), reader::durationOrZero),
                reader.read(path, map, "check_timeout", inherited.checkTimeout(), reader::positiveDuration),
                reader.read(path, map, "health_check_interval", inherited.healthCheckInterval(),
                        (p, v) -> reader.positiveDuration(p, v, "the interval")),
                reader.read(path, map, "lifetime", inherited.lifetime(), reader::durationOrZero),
                reader.read(path, map, "idle_timeout", inherited.idleTimeout(), reader::durationOrZero),
                reader.read(path, map, "connect_timeout", inherited.connectTimeout(), reader::positiveDuration),
                reader.read(path, map, "replay_check_after", inherited.replayCheckAfter(), reader::durationOrZero),
                reader.read(path, map, "allow_cleartext_password", inherited.allowCleartextPassword(),
                        reader::bool),
                reader.read(path, map, "allow_md5_password", inherited.allowMd5Password(), reader::bool));
    }

    ClientSettings client(String parent, Map<String, Object> parentMap, ClientSettings inherited) {
        String path = ConfigReader.child(parent, CLIENT);
        Map<String, Object> map = section(path, parentMap.get(CLIENT), CLIENT_KEYS);
        return new ClientSettings(
                keepalive(path, map, inherited.keepalive()),
                reader.read(path, map, "idle_timeout", inherited.idleTimeout(), reader::durationOrZero),
                reader.read(path, map, "idle_in_transaction_timeout", inherited.idleInTransactionTimeout(),
                        reader::durationOrZero),
                reader.read(path, map, "idle_in_transaction_warning", inherited.idleInTransactionWarning(),
                        reader::durationOrZero),
                reader.read(path, map, "login_timeout", inherited.loginTimeout(), reader::positiveDuration),
                reader.read(path, map, "leak_after", inherited.leakAfter(), reader::durationOrZero));
    }

    private Keepalive keepalive(String parent, Map<String, Object> parentMap, Keepalive inherited) {
        String path = ConfigReader.child(parent, "keepalive");
        Map<String, Object> map = section(path, parentMap.get("keepalive"), KEEPALIVE_KEYS);
        return new Keepalive(
                reader.read(path, map, "idle", inherited.idle(),
                        (p, v) -> reader.positiveDuration(p, v, "the idle time")),
                reader.read(path, map, "interval", inherited.interval(),
                        (p, v) -> reader.positiveDuration(p, v, "the interval")),
                reader.read(path, map, "count", inherited.count(),
                        (p, v) -> reader.integer(p, v, 1, Integer.MAX_VALUE)));
    }

    /** An absent or broken section reads as empty, so everything in it is inherited and only the break is reported. */
    private Map<String, Object> section(String path, Object value, List<String> keys) {
        Map<String, Object> map = reader.mapping(path, value).orElse(Map.of());
        reader.rejectUnknownKeys(path, map, keys);
        return map;
    }
}
