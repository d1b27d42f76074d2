package io.pgwarden.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

/** The pool settings of {@code defaults:} and of each database entry, each level over the one it inherits. */
final class PoolBinder {
    static final List<String> POOL_KEYS = List.of(
            "pool_mode", "min_size", "max_size", "query_wait_timeout", "server_reset_query", "max_prepared_statements",
            ConnectionSettingsBinder.SERVER, ConnectionSettingsBinder.CLIENT, "query_timeout", "query_wait_notice");
    // Older files put these at pool level; naming the new place beats a generic "unknown key".
    static final Map<String, String> MOVED_POOL_KEYS = Map.of("connect_timeout", "server.connect_timeout");

    private static final Map<String, PoolMode> POOL_MODES = Arrays.stream(PoolMode.values()).collect(Collectors.toMap(
            mode -> mode.name().toLowerCase(), mode -> mode, (a, b) -> a, LinkedHashMap::new));
    private static final int MAX = Integer.MAX_VALUE;

    /**
     * Pool settings plus whether each size is trustworthy: a size that failed to read falls back to a default,
     * and comparing that stand-in would report a min/max conflict the user never wrote.
     */
    record PoolRead(PoolSettings settings, boolean minSizeValid, boolean maxSizeValid) {
    }

    private final ConfigReader reader;
    private final ConnectionSettingsBinder connections;

    PoolBinder(ConfigReader reader) {
        this.reader = reader;
        this.connections = new ConnectionSettingsBinder(reader);
    }

    PoolRead bind(String path, Map<String, Object> map, PoolRead base) {
        PoolSettings inherited = base.settings();
        int before = reader.problemCount();
        int minSize = read(path, map, "min_size", inherited.minSize(), (p, v) -> reader.integer(p, v, 0, MAX));
        boolean minSizeValid = map.containsKey("min_size") ? reader.problemCount() == before : base.minSizeValid();
        before = reader.problemCount();
        int maxSize = read(path, map, "max_size", inherited.maxSize(), (p, v) -> reader.integer(p, v, 1, MAX));
        boolean maxSizeValid = map.containsKey("max_size") ? reader.problemCount() == before : base.maxSizeValid();
        PoolMode poolMode =
                read(path, map, "pool_mode", inherited.poolMode(), (p, v) -> reader.choice(p, v, POOL_MODES));
        Duration queryWaitTimeout =
                read(path, map, "query_wait_timeout", inherited.queryWaitTimeout(), reader::positiveDuration);
        String serverResetQuery = read(path, map, "server_reset_query", inherited.serverResetQuery(), reader::string);
        int maxPreparedStatements = read(path, map, "max_prepared_statements", inherited.maxPreparedStatements(),
                (p, v) -> reader.integer(p, v, 1, MAX));
        // Read before the nested sections so problems are listed with this level's plain keys first.
        Duration queryTimeout = read(path, map, "query_timeout", inherited.queryTimeout(), reader::durationOrZero);
        Duration queryWaitNotice =
                read(path, map, "query_wait_notice", inherited.queryWaitNotice(), reader::durationOrZero);
        PoolSettings settings = new PoolSettings(poolMode, minSize, maxSize, queryWaitTimeout, serverResetQuery,
                maxPreparedStatements, connections.server(path, map, inherited.server()),
                connections.client(path, map, inherited.client()), queryTimeout, queryWaitNotice);
        return new PoolRead(settings, minSizeValid, maxSizeValid);
    }

    private <T> T read(String path, Map<String, Object> map, String key, T fallback,
                       BiFunction<String, Object, Optional<T>> reading) {
        return reader.read(path, map, key, fallback, reading);
    }
}
