package io.pgwarden.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads the {@code auth:} section (users looked up in PostgreSQL). */
final class AuthBinder {
    static final String KEY = "auth";
    private static final List<String> KEYS = List.of("user", "password", "query", "database", "cache_ttl");

    private final ConfigReader reader;

    AuthBinder(ConfigReader reader) {
        this.reader = reader;
    }

    /**
     * @param databaseNames the keys under {@code databases:}, empty if that section is broken
     * @param userNames the keys under {@code users:}, empty if that section is broken
     * @return null when the file has no {@code auth:} section or it is broken
     */
    AuthConfig bind(Object value, Optional<Set<String>> databaseNames, Optional<Set<String>> userNames) {
        if (value == null) {
            return null;
        }
        Optional<Map<String, Object>> section = reader.mapping(KEY, value);
        if (section.isEmpty()) {
            return null;
        }
        Map<String, Object> map = section.get();
        reader.rejectUnknownKeys(KEY, map, KEYS);
        int before = reader.problemCount();
        String user = reader.read(KEY, map, "user", null, reader::nonEmptyString);
        if (!map.containsKey("user")) {
            reader.problem(ConfigReader.child(KEY, "user"), "is required; name the PostgreSQL role pgwarden logs in "
                    + "as to look users up");
        }
        String password = map.containsKey("password")
                ? reader.secret(ConfigReader.child(KEY, "password"), map.get("password")).orElse(null) : null;
        if (user != null && !map.containsKey("password") && userNames.isPresent()
                && !userNames.get().contains(user)) {
            reader.problem(ConfigReader.child(KEY, "password"), "is required; auth.user '" + user
                    + "' is not under users, so pgwarden has no other secret to log in with");
        }
        String query = reader.read(KEY, map, "query", AuthConfig.DEFAULT_QUERY, reader::nonEmptyString);
        String database = reader.read(KEY, map, "database", null, reader::nonEmptyString);
        if (database != null && databaseNames.isPresent() && !databaseNames.get().contains(database)) {
            String hint = KeySuggestions.closest(database, databaseNames.get())
                    .map(suggestion -> "; did you mean '" + suggestion + "'?").orElse("");
            reader.problem(ConfigReader.child(KEY, "database"), "'" + database
                    + "' is not a database configured under databases" + hint);
        }
        var cacheTtl = reader.read(KEY, map, "cache_ttl", AuthConfig.DEFAULT_CACHE_TTL, reader::durationOrZero);
        if (reader.problemCount() > before || user == null) {
            return null;
        }
        return new AuthConfig(user, password, query, database, cacheTtl);
    }
}
