package io.pgwarden.it;

import io.pgwarden.ProxyApplication;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.ProxyConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;

/** A pgwarden on a free port in front of {@link TestPostgres}, configured from YAML as a user would. */
public final class TestProxy implements AutoCloseable {

    private final ProxyApplication application;

    private TestProxy(ProxyApplication application) {
        this.application = application;
    }

    /**
     * Starts a proxy with databases {@code appdb} and the users app/md5user/trustuser.
     * {@code defaults} is YAML put under the {@code defaults:} key, indented by 2 spaces per line.
     */
    public static TestProxy start(String defaults) {
        return start(defaults, "");
    }

    public static TestProxy start(String defaults, String listenExtra) {
        return start(defaults, listenExtra, TestPostgres.shared().port(), "");
    }

    /**
     * As {@link #start(String)}, with PostgreSQL at {@code postgresPort} (a relay, another server) and more users
     * (YAML under {@code users:}, indented by 2 spaces per line).
     */
    public static TestProxy start(String defaults, String listenExtra, int postgresPort, String extraUsers) {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: 0
                  # Two loops even on small machines, so clients and backends on different loops stay tested.
                  worker_threads: 2
                %s
                defaults:
                %s
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: ${PG_PORT}
                users:
                  app:
                    password: ${APP_PASSWORD}
                  md5user:
                    password: %s
                    auth: md5
                  trustuser:
                    password: trust-secret
                    auth: cleartext
                %s
                """.formatted(listenExtra.indent(2).stripTrailing(), defaults.indent(2).stripTrailing(),
                TestPostgres.MD5_PASSWORD, extraUsers.indent(2).stripTrailing());
        return fromYaml(() -> yaml, postgresPort);
    }

    /**
     * A proxy configured by whatever {@code yaml} supplies now: RELOAD reads it again, so a test can change it.
     * ${PG_PORT} and ${APP_PASSWORD} are set.
     */
    public static TestProxy fromYaml(java.util.function.Supplier<String> yaml, int postgresPort) {
        return fromYaml(yaml, postgresPort, Map.of());
    }

    /** As {@link #fromYaml(java.util.function.Supplier, int)}, with more variables for ${...}. */
    public static TestProxy fromYaml(java.util.function.Supplier<String> yaml, int postgresPort,
                                     Map<String, String> env) {
        Map<String, String> variables = new java.util.HashMap<>(env);
        variables.put("PG_PORT", String.valueOf(postgresPort));
        variables.put("APP_PASSWORD", TestPostgres.APP_PASSWORD);
        ConfigLoader loader = new ConfigLoader(Map.copyOf(variables));
        try {
            ProxyConfig config = loader.parse(withForcedTransport(yaml.get()), "test config");
            return new TestProxy(ProxyApplication.start(config,
                    () -> loader.parse(withForcedTransport(yaml.get()), "test config")));
        } catch (Exception e) {
            throw new IllegalStateException("could not start pgwarden: " + e.getMessage(), e);
        }
    }

    /**
     * -Dpgwarden.test.transport=io_uring (or epoll, nio) runs every in-process proxy on that transport, unless the
     * test names one itself: the whole suite can be run on each to show that nothing depends on one.
     */
    private static String withForcedTransport(String yaml) {
        String forced = System.getProperty("pgwarden.test.transport", "");
        if (forced.isEmpty() || !yaml.startsWith("listen:\n") || yaml.contains("\n  transport:")) {
            return yaml;
        }
        return "listen:\n  transport: " + forced + "\n" + yaml.substring("listen:\n".length());
    }

    public int port() {
        return application.address().getPort();
    }

    public ProxyApplication application() {
        return application;
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    public Connection connect() throws SQLException {
        return connect("app", TestPostgres.APP_PASSWORD);
    }

    public Connection connect(String user, String password) throws SQLException {
        return connect("appdb", user, password, new Properties());
    }

    public Connection connect(String database, String user, String password, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.putAll(extra);
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.putIfAbsent("connectTimeout", "10");
        props.putIfAbsent("socketTimeout", "60");
        return DriverManager.getConnection(url(database), props);
    }

    @Override
    public void close() {
        application.close();
    }
}
