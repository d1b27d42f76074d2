package io.pgwarden.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

/** Turns the parsed YAML tree into {@link ProxyConfig}, recording every problem in the {@link ConfigReader}. */
final class ConfigBinder {
    private static final List<String> TOP_LEVEL_KEYS = List.of("listen", "defaults", "databases", "users", "admin",
            AuthBinder.KEY, AccessBinder.KEY);
    private static final List<String> LISTEN_KEYS = List.of("host", "port", "max_client_connections",
            "worker_threads", "max_pending_logins", "max_pending_logins_per_address", "max_prepared_statement_bytes",
            "max_prepared_statement_bytes_per_client", "shutdown_timeout", "transport", "reuse_port",
            "handover_socket",
            PeersBinder.ID_KEY, PeersBinder.PEERS_KEY, ListenTlsBinder.KEY, LoginThrottleBinder.KEY);
    private static final List<String> USER_KEYS = List.of("password", "auth");
    private static final List<String> ADMIN_KEYS = List.of("database", "users", "http");
    private static final List<String> HTTP_KEYS = List.of("host", "port", "metrics_token", "request_timeout",
            "idle_timeout", "max_connections", "max_request_bytes");

    private static final Map<String, AuthMethod> AUTH_METHODS = spellings(AuthMethod.values(), AuthMethod::yamlName);
    private static final Map<String, ListenTransport> TRANSPORTS =
            spellings(ListenTransport.values(), ListenTransport::yamlName);

    private static final String DEFAULT_HOST = "127.0.0.1";
    private static final int MAX = Integer.MAX_VALUE;
    /** sun_path holds 108 bytes on Linux, its terminating NUL included. */
    private static final int MAX_UNIX_SOCKET_PATH = 107;

    private final ConfigReader reader;
    private final PoolBinder pools;

    ConfigBinder(ConfigReader reader) {
        this.reader = reader;
        this.pools = new PoolBinder(reader);
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
        reader.rejectUnknownKeys("defaults", defaultsSection, PoolBinder.POOL_KEYS, PoolBinder.MOVED_POOL_KEYS);
        PoolBinder.PoolRead defaults =
                pools.bind("defaults", defaultsSection, new PoolBinder.PoolRead(PoolSettings.defaults(), true, true));
        Optional<Map<String, Object>> databasesSection = reader.mapping("databases", top.get().get("databases"));
        DatabasesBinder.Databases databases = new DatabasesBinder(reader, pools).bind(databasesSection, defaults);
        Optional<Map<String, Object>> usersSection = reader.mapping("users", top.get().get("users"));
        Map<String, UserConfig> users = bindUsers(usersSection, top.get().containsKey(AuthBinder.KEY));
        // Checked against every name in the file, not only the entries that bound cleanly: a user missing its
        // password is still a user, and calling it unknown here would send the reader looking for a typo.
        AdminConfig admin = bindAdmin(top.get().get("admin"),
                databasesSection.map(Map::keySet), usersSection.map(Map::keySet));
        AuthConfig auth = new AuthBinder(reader).bind(top.get().get(AuthBinder.KEY),
                databasesSection.map(Map::keySet), usersSection.map(Map::keySet));
        List<AccessRule> access = top.get().containsKey(AccessBinder.KEY)
                ? new AccessBinder(reader).bind(top.get().get(AccessBinder.KEY), listen.tls()) : List.of();
        if (reader.problemCount() > 0) {
            return Optional.empty();
        }
        return Optional.of(new ProxyConfig(listen, defaults.settings(), databases.named(), users, admin, auth,
                databases.any(), access));
    }

    private ListenConfig bindListen(Object value) {
        Map<String, Object> map = reader.mapping("listen", value).orElse(Map.of());
        reader.rejectUnknownKeys("listen", map, LISTEN_KEYS);
        int before = reader.problemCount();
        int port = read("listen", map, "port", 6432, (path, v) -> reader.integer(path, v, 0, 65535));
        ListenTransport transport = read("listen", map, "transport", ListenTransport.AUTO,
                (path, v) -> reader.choice(path, v, TRANSPORTS));
        boolean reusePort = read("listen", map, "reuse_port", false, reader::bool);
        if (reusePort && transport == ListenTransport.NIO) {
            reader.problem("listen.reuse_port", "needs a native transport (io_uring or epoll): listen.transport nio"
                    + " has no SO_REUSEPORT; set listen.transport to auto, io_uring or epoll, or reuse_port to false");
        }
        ListenConfig listen = new ListenConfig(
                read("listen", map, "host", DEFAULT_HOST, reader::nonEmptyString),
                port,
                read("listen", map, "max_client_connections", 5000, (path, v) -> reader.integer(path, v, 1, MAX)),
                read("listen", map, "worker_threads", 0, (path, v) -> reader.integer(path, v, 0, 256)),
                read("listen", map, "max_pending_logins", ListenConfig.DEFAULT_MAX_PENDING_LOGINS,
                        (path, v) -> reader.integer(path, v, 1, MAX)),
                read("listen", map, "max_pending_logins_per_address",
                        ListenConfig.DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS, (path, v) -> reader.integer(path, v, 1, MAX)),
                read("listen", map, "max_prepared_statement_bytes", ListenConfig.DEFAULT_PREPARED_BYTES,
                        (path, v) -> reader.integer(path, v, 1024, MAX)),
                read("listen", map, "max_prepared_statement_bytes_per_client",
                        ListenConfig.DEFAULT_PREPARED_BYTES_PER_CLIENT, (path, v) -> reader.integer(path, v, 1024, MAX)),
                new ListenTlsBinder(reader).bind(map.get(ListenTlsBinder.KEY)),
                new LoginThrottleBinder(reader).bind(map.get(LoginThrottleBinder.KEY)),
                read("listen", map, "shutdown_timeout", ListenConfig.DEFAULT_SHUTDOWN_TIMEOUT, reader::durationOrZero),
                transport, reusePort, new PeersBinder(reader).bind(map, port), handoverSocket(map, transport));
        if (reader.problemCount() == before
                && listen.maxPreparedStatementBytesPerClient() > listen.maxPreparedStatementBytes()) {
            reader.problem("listen", "max_prepared_statement_bytes_per_client ("
                    + listen.maxPreparedStatementBytesPerClient() + ") must not exceed max_prepared_statement_bytes ("
                    + listen.maxPreparedStatementBytes() + ")");
        }
        return listen;
    }

    /**
     * listen.handover_socket: an absolute path, as a relative one would depend on the directory each process
     * happens to start in, and the two processes of a handover must agree on it. Handing over a listening socket
     * means wrapping an inherited file descriptor, which of the transports only epoll does.
     */
    private String handoverSocket(Map<String, Object> map, ListenTransport transport) {
        String path = read("listen", map, "handover_socket", null, reader::nonEmptyString);
        if (path == null) {
            return null;
        }
        if (!path.startsWith("/")) {
            reader.problem("listen.handover_socket", "must be an absolute path, not '" + path + "'");
        } else if (path.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_UNIX_SOCKET_PATH) {
            reader.problem("listen.handover_socket", "is longer than the " + MAX_UNIX_SOCKET_PATH
                    + " bytes a Unix socket path may have");
        }
        if (transport == ListenTransport.NIO || transport == ListenTransport.IO_URING) {
            reader.problem("listen.handover_socket", "needs the epoll transport (it adopts the listening socket's"
                    + " file descriptor, which only epoll can); set listen.transport to auto or epoll");
        }
        return path;
    }

    /** @param lookedUp users may also be looked up in PostgreSQL (auth:), so none need be listed */
    private Map<String, UserConfig> bindUsers(Optional<Map<String, Object>> section, boolean lookedUp) {
        Map<String, UserConfig> users = new LinkedHashMap<>();
        if (section.isEmpty()) {
            return users;
        }
        if (section.get().isEmpty() && !lookedUp) {
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
            Optional<String> secretProblem = Optional.ofNullable(password).flatMap(p -> SecretKind.problem(p, auth));
            secretProblem.ifPresent(why -> reader.problem(ConfigReader.child(path, "password"), why));
            if (password != null && secretProblem.isEmpty()) {
                users.put(name, new UserConfig(name, password, auth));
            }
        });
        return users;
    }

    /**
     * @param databaseNames the keys under {@code databases:}, empty if that section is broken
     * @param userNames the keys under {@code users:}, empty if that section is broken
     */
    private AdminConfig bindAdmin(Object value, Optional<Set<String>> databaseNames, Optional<Set<String>> userNames) {
        AdminConfig defaults = AdminConfig.defaults();
        Optional<Map<String, Object>> section = reader.mapping("admin", value);
        Map<String, Object> map = section.orElse(Map.of());
        reader.rejectUnknownKeys("admin", map, ADMIN_KEYS);

        String databasePath = ConfigReader.child("admin", "database");
        int before = reader.problemCount();
        String database = read("admin", map, "database", defaults.database(), reader::nonEmptyString);
        // A broken section or value falls back to the default name, which the user may never have meant to use.
        boolean databaseValid = section.isPresent() && reader.problemCount() == before;
        if (databaseValid && databaseNames.isPresent() && databaseNames.get().contains(database)) {
            String setting = map.containsKey("database") ? "'" + database + "'" : "the default '" + database + "'";
            reader.problem(databasePath, setting + " is also the name of "
                    + ConfigReader.child("databases", database)
                    + "; the admin console needs a database name of its own, so rename one of them");
        }

        List<String> users = map.containsKey("users")
                ? bindAdminUsers(ConfigReader.child("admin", "users"), map.get("users"), userNames)
                : defaults.users();

        HttpConfig http = null;
        if (map.containsKey("http")) {
            String path = ConfigReader.child("admin", "http");
            Map<String, Object> httpMap = reader.mapping(path, map.get("http")).orElse(Map.of());
            reader.rejectUnknownKeys(path, httpMap, HTTP_KEYS);
            HttpConfig httpDefaults = HttpConfig.defaults();
            http = new HttpConfig(
                    read(path, httpMap, "host", httpDefaults.host(), reader::nonEmptyString),
                    read(path, httpMap, "port", httpDefaults.port(), (p, v) -> reader.integer(p, v, 0, 65535)),
                    read(path, httpMap, "metrics_token", httpDefaults.metricsToken(), reader::secret),
                    read(path, httpMap, "request_timeout", httpDefaults.requestTimeout(), reader::positiveDuration),
                    read(path, httpMap, "idle_timeout", httpDefaults.idleTimeout(), reader::positiveDuration),
                    read(path, httpMap, "max_connections", httpDefaults.maxConnections(),
                            (p, v) -> reader.integer(p, v, 1, 100_000)),
                    read(path, httpMap, "max_request_bytes", httpDefaults.maxRequestBytes(),
                            (p, v) -> reader.integer(p, v, HttpConfig.MIN_REQUEST_BYTES, HttpConfig.MAX_REQUEST_BYTES)));
        }
        return new AdminConfig(database, users, http);
    }

    private List<String> bindAdminUsers(String path, Object value, Optional<Set<String>> userNames) {
        List<String> users = new ArrayList<>();
        List<Object> items = reader.list(path, value, "a list of user names", "; write it as [name, ...]")
                .orElse(List.of());
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            Optional<String> name = reader.nonEmptyString(itemPath, items.get(i));
            if (name.isEmpty()) {
                continue;
            }
            if (users.contains(name.get())) {
                reader.problem(itemPath, "'" + name.get() + "' is listed more than once");
                continue;
            }
            Set<String> known = userNames.orElse(null);
            if (known != null && !known.contains(name.get())) {
                String hint = KeySuggestions.closest(name.get(), known)
                        .map(suggestion -> "; did you mean '" + suggestion + "'?")
                        .orElse(known.isEmpty() ? "" : "; expected one of " + String.join(", ", known));
                reader.problem(itemPath, "'" + name.get() + "' is not a user configured under users" + hint);
            }
            users.add(name.get());
        }
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
