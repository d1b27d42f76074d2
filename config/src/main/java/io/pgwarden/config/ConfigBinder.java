package io.pgwarden.config;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Turns the parsed YAML tree into {@link ProxyConfig}, recording every problem in the {@link ConfigReader}. */
final class ConfigBinder {
    private static final List<String> TOP_LEVEL_KEYS = List.of("listen", "defaults", "databases", "users");
    private static final List<String> LISTEN_KEYS = List.of("host", "port", "max_client_connections");
    private static final List<String> POOL_KEYS = List.of(
            "pool_mode", "min_size", "max_size", "query_wait_timeout", "server_reset_query", "max_prepared_statements",
            ConnectionSettingsBinder.SERVER, ConnectionSettingsBinder.CLIENT);
    // Older files put these at pool level; naming the new place beats a generic "unknown key".
    private static final Map<String, String> MOVED_POOL_KEYS = Map.of("connect_timeout", "server.connect_timeout");
    private static final List<String> DATABASE_KEYS =
            Stream.concat(Stream.of("host", "port", "dbname"), POOL_KEYS.stream()).toList();
    private static final List<String> USER_KEYS = List.of("password", "auth");

    private static final Map<String, PoolMode> POOL_MODES = spellings(PoolMode.values(), mode -> mode.name().toLowerCase());
    private static final Map<String, AuthMethod> AUTH_METHODS = spellings(AuthMethod.values(), AuthMethod::yamlName);

    private static final String DEFAULT_HOST = "127.0.0.1";
    private static final int MAX = Integer.MAX_VALUE;

    /**
     * Pool settings plus whether each size is trustworthy: a size that failed to read falls back to a default,
     * and comparing that stand-in would report a min/max conflict the user never wrote.
     */
    private record PoolRead(PoolSettings settings, boolean minSizeValid, boolean maxSizeValid) {
    }

    private final ConfigReader reader;
    private final ConnectionSettingsBinder connections;

    ConfigBinder(ConfigReader reader) {
        this.reader = reader;
        this.connections = new ConnectionSettingsBinder(reader);
    }

    /** The configuration, or empty if the reader recorded any problem. */
    Optional<ProxyConfig> bind(Object root) {
        Optional<Map<String, Object>> top = reader.mapping("", root);
        if (top.isEmpty()) {
            return Optional.empty();
        }
        reader.rejectUnknownKeys("", top.get(), TOP_LEVEL_KEYS);
        ListenConfig listen = bindListen(top.get().get("listen"));
        Map<String, Object> defaultsSection = reader.mapping("defaults", top.get().get("defaults")).orElse(Map.of());
        reader.rejectUnknownKeys("defaults", defaultsSection, POOL_KEYS, MOVED_POOL_KEYS);
        PoolRead defaults = bindPool("defaults", defaultsSection, new PoolRead(PoolSettings.defaults(), true, true));
        Map<String, DatabaseConfig> databases = bindDatabases(top.get().get("databases"), defaults);
        Map<String, UserConfig> users = bindUsers(top.get().get("users"));
        if (reader.problemCount() > 0) {
            return Optional.empty();
        }
        return Optional.of(new ProxyConfig(listen, defaults.settings(), databases, users));
    }

    private ListenConfig bindListen(Object value) {
        Map<String, Object> map = reader.mapping("listen", value).orElse(Map.of());
        reader.rejectUnknownKeys("listen", map, LISTEN_KEYS);
        return new ListenConfig(
                read("listen", map, "host", DEFAULT_HOST, reader::nonEmptyString),
                read("listen", map, "port", 6432, (path, v) -> reader.integer(path, v, 0, 65535)),
                read("listen", map, "max_client_connections", 5000, (path, v) -> reader.integer(path, v, 1, MAX)));
    }

    private PoolRead bindPool(String path, Map<String, Object> map, PoolRead base) {
        PoolSettings inherited = base.settings();
        int before = reader.problemCount();
        int minSize = read(path, map, "min_size", inherited.minSize(), (p, v) -> reader.integer(p, v, 0, MAX));
        boolean minSizeValid = map.containsKey("min_size") ? reader.problemCount() == before : base.minSizeValid();
        before = reader.problemCount();
        int maxSize = read(path, map, "max_size", inherited.maxSize(), (p, v) -> reader.integer(p, v, 1, MAX));
        boolean maxSizeValid = map.containsKey("max_size") ? reader.problemCount() == before : base.maxSizeValid();
        PoolSettings settings = new PoolSettings(
                read(path, map, "pool_mode", inherited.poolMode(), (p, v) -> reader.choice(p, v, POOL_MODES)),
                minSize,
                maxSize,
                read(path, map, "query_wait_timeout", inherited.queryWaitTimeout(), reader::positiveDuration),
                read(path, map, "server_reset_query", inherited.serverResetQuery(), reader::string),
                read(path, map, "max_prepared_statements", inherited.maxPreparedStatements(),
                        (p, v) -> reader.integer(p, v, 1, MAX)),
                connections.server(path, map, inherited.server()),
                connections.client(path, map, inherited.client()));
        return new PoolRead(settings, minSizeValid, maxSizeValid);
    }

    private Map<String, DatabaseConfig> bindDatabases(Object value, PoolRead defaults) {
        Map<String, DatabaseConfig> databases = new LinkedHashMap<>();
        Optional<Map<String, Object>> section = reader.mapping("databases", value);
        if (section.isEmpty()) {
            return databases;
        }
        if (section.get().isEmpty()) {
            reader.problem("databases", "at least one database is required");
        }
        section.get().forEach((name, entry) -> {
            String path = ConfigReader.child("databases", name);
            Optional<Map<String, Object>> map = reader.mapping(path, entry);
            if (name.isBlank()) {
                reader.problem("databases", "a database name must not be empty");
            }
            if (map.isEmpty() || name.isBlank()) {
                return;
            }
            reader.rejectUnknownKeys(path, map.get(), DATABASE_KEYS, MOVED_POOL_KEYS);
            String host = read(path, map.get(), "host", DEFAULT_HOST, reader::nonEmptyString);
            int port = read(path, map.get(), "port", 5432, (p, v) -> reader.integer(p, v, 1, 65535));
            String dbname = read(path, map.get(), "dbname", name, reader::nonEmptyString);
            PoolRead pool = bindPool(path, map.get(), defaults);
            PoolSettings settings = pool.settings();
            // Checked per database because an override on either side can create or resolve the conflict.
            if (pool.minSizeValid() && pool.maxSizeValid() && settings.minSize() > settings.maxSize()) {
                reader.problem(path, "min_size (" + settings.minSize() + ") must not exceed max_size ("
                        + settings.maxSize() + ")");
            }
            databases.put(name, new DatabaseConfig(name, host, port, dbname, settings));
        });
        return databases;
    }

    private Map<String, UserConfig> bindUsers(Object value) {
        Map<String, UserConfig> users = new LinkedHashMap<>();
        Optional<Map<String, Object>> section = reader.mapping("users", value);
        if (section.isEmpty()) {
            return users;
        }
        if (section.get().isEmpty()) {
            reader.problem("users", "at least one user is required");
        }
        section.get().forEach((name, entry) -> {
            String path = ConfigReader.child("users", name);
            Optional<Map<String, Object>> map = reader.mapping(path, entry);
            if (name.isBlank()) {
                reader.problem("users", "a user name must not be empty");
            }
            if (map.isEmpty() || name.isBlank()) {
                return;
            }
            reader.rejectUnknownKeys(path, map.get(), USER_KEYS);
            String password = null;
            if (map.get().containsKey("password")) {
                password = reader.secret(ConfigReader.child(path, "password"), map.get().get("password")).orElse(null);
            } else {
                reader.problem(ConfigReader.child(path, "password"), "is required; every user needs a password");
            }
            AuthMethod auth = read(path, map.get(), "auth", AuthMethod.SCRAM_SHA_256,
                    (p, v) -> reader.choice(p, v, AUTH_METHODS));
            if (password != null) {
                users.put(name, new UserConfig(name, password, auth));
            }
        });
        return users;
    }

    private <T> T read(String path, Map<String, Object> map, String key, T fallback,
                       BiFunction<String, Object, Optional<T>> reading) {
        return reader.read(path, map, key, fallback, reading);
    }

    private static <E> Map<String, E> spellings(E[] values, java.util.function.Function<E, String> spelling) {
        return Arrays.stream(values).collect(Collectors.toMap(spelling, value -> value, (a, b) -> a, LinkedHashMap::new));
    }
}
