package io.pgwarden.bench;

import io.pgwarden.ProxyApplication;
import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import java.util.Map;

/**
 * The demo's pgwarden: transaction pooling in front of {@link DemoPostgres}, with the admin console (user
 * {@code admin}) and the HTTP endpoints ({@code /metrics}, {@code /ready}) on, so a newcomer sees what it sees.
 */
final class DemoProxy {

    static final String ADMIN_USER = "admin";
    static final String ADMIN_PASSWORD = "admin";
    static final String ADMIN_DATABASE = "pgwarden";

    /** A demo stopped with Ctrl-C should be gone in a moment, not after the production default of 30 s. */
    private static final String SHUTDOWN_TIMEOUT_LINE = "  shutdown_timeout: 2s\n";

    final String yaml;
    final LoadedConfig config;
    final ProxyApplication proxy;

    private DemoProxy(String yaml, LoadedConfig config, ProxyApplication proxy) {
        this.yaml = yaml;
        this.config = config;
        this.proxy = proxy;
    }

    /**
     * @param port pgwarden's port (0: any free one)
     * @param httpPort the port of /metrics, /health and /ready (0: any free one)
     */
    static DemoProxy start(int port, int httpPort, String poolMode, int postgresPort) throws Exception {
        String yaml = """
                listen:
                  host: 127.0.0.1
                  port: %d
                %sdefaults:
                  pool_mode: %s
                  max_size: 20
                databases:
                  %s:
                    host: 127.0.0.1
                    port: %d
                users:
                  %s:
                    password: ${DEMO_PASSWORD}
                  %s:
                    password: ${DEMO_ADMIN_PASSWORD}
                admin:
                  database: %s
                  users: [%s]
                  http:
                    host: 127.0.0.1
                    port: %d
                """.formatted(port, SHUTDOWN_TIMEOUT_LINE, poolMode, DemoPostgres.DATABASE, postgresPort,
                DemoPostgres.USER, ADMIN_USER, ADMIN_DATABASE, ADMIN_USER, httpPort);
        ConfigLoader loader = new ConfigLoader(Map.of("DEMO_PASSWORD", DemoPostgres.PASSWORD,
                "DEMO_ADMIN_PASSWORD", ADMIN_PASSWORD));
        LoadedConfig config = loader.read(yaml, "demo config");
        return new DemoProxy(yaml, config, ProxyApplication.start(config.config()));
    }

    int port() {
        return proxy.address().getPort();
    }

    int httpPort() {
        return proxy.httpAddress().getPort();
    }
}
