package io.pgwarden.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/** The {@code databases:} section: named entries, and the {@code "*"} entry that serves any other name. */
final class DatabasesBinder {
    private static final List<String> FORCED_USER_KEYS = List.of("user", "password");
    private static final List<String> DATABASE_KEYS = Stream.of(ClusterBinder.KEYS, List.of("dbname"),
            FORCED_USER_KEYS, PoolBinder.POOL_KEYS).flatMap(List::stream).toList();
    private static final String IDLE_TIMEOUT = "auto_database_idle_timeout";
    private static final String MAX_POOLS = "max_auto_pools";
    // No dbname: each name a client asks for is its own database.
    private static final List<String> ANY_DATABASE_KEYS = Stream.of(ClusterBinder.KEYS, List.of(IDLE_TIMEOUT,
            MAX_POOLS), FORCED_USER_KEYS, PoolBinder.POOL_KEYS).flatMap(List::stream).toList();

    /** What the section holds; {@code any} is null without a {@code "*"} entry. */
    record Databases(Map<String, DatabaseConfig> named, AnyDatabaseConfig any) {
    }

    private final ConfigReader reader;
    private final PoolBinder pools;
    private final ClusterBinder clusters;

    DatabasesBinder(ConfigReader reader, PoolBinder pools) {
        this.reader = reader;
        this.pools = pools;
        this.clusters = new ClusterBinder(reader);
    }

    Databases bind(Optional<Map<String, Object>> section, PoolBinder.PoolRead defaults) {
        Map<String, DatabaseConfig> databases = new LinkedHashMap<>();
        AnyDatabaseConfig any = null;
        if (section.isEmpty()) {
            return new Databases(databases, null);
        }
        if (section.get().isEmpty()) {
            reader.problem("databases", "at least one database is required");
        }
        for (Map.Entry<String, Object> item : section.get().entrySet()) {
            String name = item.getKey();
            String path = ConfigReader.child("databases", name);
            Optional<Map<String, Object>> map = reader.mapping(path, item.getValue());
            if (name.isBlank()) {
                reader.problem("databases", "a database name must not be empty");
            }
            if (map.isEmpty() || name.isBlank()) {
                continue;
            }
            if (name.equals(AnyDatabaseConfig.KEY)) {
                any = bindAny(path, map.get(), defaults);
            } else {
                reader.rejectUnknownKeys(path, map.get(), DATABASE_KEYS, PoolBinder.MOVED_POOL_KEYS);
                databases.put(name, bindEntry(path, name, false, map.get(), defaults));
            }
        }
        return new Databases(databases, any);
    }

    private AnyDatabaseConfig bindAny(String path, Map<String, Object> map, PoolBinder.PoolRead defaults) {
        if (map.containsKey("dbname")) {
            reader.problem(ConfigReader.child(path, "dbname"), "is not allowed here: the \"*\" entry serves each "
                    + "database name a client asks for as that database; name an entry to map a name to a dbname");
        }
        Map<String, Object> rest = new LinkedHashMap<>(map);
        rest.remove("dbname");
        reader.rejectUnknownKeys(path, rest, ANY_DATABASE_KEYS, PoolBinder.MOVED_POOL_KEYS);
        DatabaseConfig template = bindEntry(path, AnyDatabaseConfig.KEY, true, rest, defaults);
        Duration idleTimeout = read(path, map, IDLE_TIMEOUT, AnyDatabaseConfig.DEFAULT_IDLE_TIMEOUT,
                reader::positiveDuration);
        int maxPools = read(path, map, MAX_POOLS, AnyDatabaseConfig.DEFAULT_MAX_POOLS,
                (p, v) -> reader.integer(p, v, 1, 1_000_000));
        return new AnyDatabaseConfig(template, idleTimeout, maxPools);
    }

    /** @param any the "*" entry, whose dbname is each name asked for */
    private DatabaseConfig bindEntry(String path, String name, boolean any, Map<String, Object> map,
                                     PoolBinder.PoolRead defaults) {
        ClusterSettings cluster = clusters.bind(path, map);
        String dbname = any ? AnyDatabaseConfig.KEY : read(path, map, "dbname", name, reader::nonEmptyString);
        String user = read(path, map, "user", null, reader::nonEmptyString);
        String password = null;
        if (map.containsKey("password")) {
            password = reader.secret(ConfigReader.child(path, "password"), map.get("password")).orElse(null);
            if (!map.containsKey("user")) {
                reader.problem(ConfigReader.child(path, "password"), "needs " + ConfigReader.child(path, "user")
                        + ", the role the pool logs in as with it");
                password = null;
            }
        }
        PoolBinder.PoolRead pool = pools.bind(path, map, defaults);
        PoolSettings settings = pool.settings();
        // Checked per database because an override on either side can create or resolve the conflict.
        if (pool.minSizeValid() && pool.maxSizeValid() && settings.minSize() > settings.maxSize()) {
            reader.problem(path, "min_size (" + settings.minSize() + ") must not exceed max_size ("
                    + settings.maxSize() + ")");
        }
        return new DatabaseConfig(name, cluster, dbname, settings, user, user == null ? null : password);
    }

    private <T> T read(String path, Map<String, Object> map, String key, T fallback,
                       BiFunction<String, Object, Optional<T>> reading) {
        return reader.read(path, map, key, fallback, reading);
    }
}
