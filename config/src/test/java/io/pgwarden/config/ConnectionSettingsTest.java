package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code server:} and {@code client:} sections: defaults, key-by-key merging and their validation. */
class ConnectionSettingsTest {
    private static final String USERS = "users:\n  app: {password: pw}\n";

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret", "LIFE", "2h"));

    private ProxyConfig parse(String yaml) throws ConfigException {
        return loader.parse(yaml, "t");
    }

    private ServerSettings defaultsServer(String serverYaml) throws ConfigException {
        return parse(ConfigLoaderTest.MINIMAL + "defaults:\n  server:\n" + serverYaml.indent(4)).defaults().server();
    }

    private List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse(yaml, "t"));
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e.problems();
    }

    private List<String> defaultsProblems(String defaultsYaml) {
        return problems(ConfigLoaderTest.MINIMAL + "defaults:\n" + defaultsYaml.indent(2));
    }

    @Test
    void defaultsMatchTheDocumentedValues() throws ConfigException {
        ServerSettings server = ServerSettings.defaults();
        assertThat(server.keepalive()).isEqualTo(new Keepalive(Duration.ofSeconds(30), Duration.ofSeconds(10), 5))
                .isEqualTo(Keepalive.defaults());
        assertThat(server.tcpUserTimeout()).isZero();
        assertThat(server.checkQuery()).isEqualTo("SELECT 1");
        assertThat(server.checkDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(server.checkTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(server.healthCheckInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(server.lifetime()).isEqualTo(Duration.ofHours(1));
        assertThat(server.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(server.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(server.replayCheckAfter()).isEqualTo(Duration.ofMillis(100));
        assertThat(ClientSettings.defaults().keepalive()).isEqualTo(Keepalive.defaults());

        PoolSettings pool = parse(ConfigLoaderTest.MINIMAL).database("appdb").orElseThrow().pool();
        assertThat(pool.server()).isEqualTo(ServerSettings.defaults());
        assertThat(pool.client()).isEqualTo(ClientSettings.defaults());
    }

    @Test
    void readsEveryKey() throws ConfigException {
        ProxyConfig config = parse(ConfigLoaderTest.MINIMAL + """
                defaults:
                  server:
                    keepalive: {idle: 1m, interval: 1500ms, count: 3}
                    tcp_user_timeout: 20s
                    check_query: SELECT 42
                    check_delay: 2s
                    check_timeout: 750ms
                    health_check_interval: 15s
                    lifetime: ${LIFE}
                    idle_timeout: 5m
                    connect_timeout: 3s
                    replay_check_after: 0s
                  client:
                    keepalive: {idle: 2m, interval: 20s, count: 9}
                """);

        assertThat(config.defaults().server()).isEqualTo(new ServerSettings(
                new Keepalive(Duration.ofMinutes(1), Duration.ofMillis(1500), 3), Duration.ofSeconds(20), "SELECT 42",
                Duration.ofSeconds(2), Duration.ofMillis(750), Duration.ofSeconds(15), Duration.ofHours(2),
                Duration.ofMinutes(5), Duration.ofSeconds(3), Duration.ZERO));
        assertThat(config.defaults().client())
                .isEqualTo(new ClientSettings(new Keepalive(Duration.ofMinutes(2), Duration.ofSeconds(20), 9),
                        Duration.ZERO, Duration.ZERO, Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(2)));
        assertThat(config.database("appdb").orElseThrow().pool().server()).isEqualTo(config.defaults().server());
    }

    @Test
    void aDatabaseOverridesSingleKeysOfTheDefaultsSections() throws ConfigException {
        ProxyConfig config = parse("""
                defaults:
                  server:
                    check_delay: 10s
                    keepalive: {idle: 1m}
                  client:
                    keepalive: {count: 2}
                databases:
                  appdb:
                    server:
                      lifetime: 5m
                      keepalive: {count: 7}
                    client:
                      keepalive: {interval: 3s}
                  other: {}
                """ + USERS);

        ServerSettings appdb = config.database("appdb").orElseThrow().pool().server();
        assertThat(appdb.checkDelay()).isEqualTo(Duration.ofSeconds(10));
        assertThat(appdb.lifetime()).isEqualTo(Duration.ofMinutes(5));
        assertThat(appdb.keepalive()).isEqualTo(new Keepalive(Duration.ofMinutes(1), Duration.ofSeconds(10), 7));
        assertThat(appdb.idleTimeout()).isEqualTo(ServerSettings.defaults().idleTimeout());
        assertThat(config.database("appdb").orElseThrow().pool().client().keepalive())
                .isEqualTo(new Keepalive(Duration.ofSeconds(30), Duration.ofSeconds(3), 2));

        ServerSettings other = config.database("other").orElseThrow().pool().server();
        assertThat(other.checkDelay()).isEqualTo(Duration.ofSeconds(10));
        assertThat(other.lifetime()).isEqualTo(ServerSettings.defaults().lifetime());
        assertThat(other).isEqualTo(config.defaults().server());
        assertThat(config.database("other").orElseThrow().pool().client()).isEqualTo(config.defaults().client());
    }

    @Test
    void acceptsAnEmptyCheckQuery() throws ConfigException {
        assertThat(defaultsServer("check_query: ''").checkQuery()).isEmpty();
    }

    @Test
    void acceptsZeroWhereZeroSwitchesAFeatureOff() throws ConfigException {
        ServerSettings server = defaultsServer("lifetime: 0s\nidle_timeout: 0ms\ncheck_delay: 0\ntcp_user_timeout: 0s");
        assertThat(server.lifetime()).isZero();
        assertThat(server.idleTimeout()).isZero();
        assertThat(server.checkDelay()).isZero();
        assertThat(server.tcpUserTimeout()).isZero();
    }

    @Test
    void acceptsAnEmptySectionAsAllInherited() throws ConfigException {
        assertThat(parse(ConfigLoaderTest.MINIMAL + "defaults:\n  server:\n  client: {}\n").defaults())
                .isEqualTo(PoolSettings.defaults());
    }

    @Test
    void rejectsZeroWhereZeroWouldBreakTheProxy() {
        assertThat(defaultsProblems("server: {check_timeout: 0s, health_check_interval: 0ms, connect_timeout: 0s}"))
                .containsExactly(
                        "defaults.server.check_timeout: '0s' is not allowed; the timeout must be greater than zero",
                        "defaults.server.health_check_interval: '0ms' is not allowed;"
                                + " the interval must be greater than zero",
                        "defaults.server.connect_timeout: '0s' is not allowed; the timeout must be greater than zero");
        assertThat(defaultsProblems("client: {keepalive: {idle: 0s, interval: 0s}}"))
                .containsExactly(
                        "defaults.client.keepalive.idle: '0s' is not allowed; the idle time must be greater than zero",
                        "defaults.client.keepalive.interval: '0s' is not allowed; the interval must be greater than zero");
    }

    @Test
    void rejectsABadKeepaliveCount() {
        assertThat(defaultsProblems("server: {keepalive: {count: 0}}\nclient: {keepalive: {count: many}}"))
                .containsExactly(
                        "defaults.server.keepalive.count: 0 is too small; must be at least 1",
                        "defaults.client.keepalive.count: 'many' is not an integer");
    }

    @Test
    void rejectsUnknownKeysAtEveryNewLevel() {
        assertThat(defaultsProblems("server: {chek_delay: 1s}"))
                .containsExactly("defaults.server.chek_delay: unknown key; did you mean 'check_delay'?");
        assertThat(defaultsProblems("client: {keepalve: {}}"))
                .containsExactly("defaults.client.keepalve: unknown key; did you mean 'keepalive'?");
        assertThat(defaultsProblems("server: {keepalive: {intervall: 1s, probes: 3}}"))
                .containsExactly(
                        "defaults.server.keepalive.intervall: unknown key; did you mean 'interval'?",
                        "defaults.server.keepalive.probes: unknown key; expected one of idle, interval, count");
        assertThat(problems("databases:\n  appdb:\n    servr: {}\n    client: {keepalive: {idl: 1s}}\n" + USERS))
                .containsExactly(
                        "databases.appdb.servr: unknown key; did you mean 'server'?",
                        "databases.appdb.client.keepalive.idl: unknown key; did you mean 'idle'?");
    }

    @Test
    void pointsAtTheNewHomeOfConnectTimeout() {
        assertThat(defaultsProblems("connect_timeout: 5s"))
                .containsExactly("defaults.connect_timeout: unknown key; it moved to 'server.connect_timeout'");
        assertThat(problems("databases:\n  appdb: {connect_timeout: 5s}\n" + USERS))
                .containsExactly("databases.appdb.connect_timeout: unknown key; it moved to 'server.connect_timeout'");
    }

    @Test
    void rejectsWrongTypesNamingThePathAndWhatIsAllowed() {
        assertThat(defaultsProblems("server: 5s\nclient: {keepalive: [1s]}")).containsExactly(
                "defaults.server: expected a mapping (key: value lines) but found a string",
                "defaults.client.keepalive: expected a mapping (key: value lines) but found a list");
        assertThat(defaultsProblems("server: {check_query: 1, check_delay: -1s, lifetime: 30, idle_timeout: soon}"))
                .containsExactly(
                        "defaults.server.check_query: 1 is not a string; put it in quotes",
                        "defaults.server.check_delay: '-1s' is not a duration; use a whole number followed by"
                                + " ms, s, m or h (e.g. 500ms, 30s, 5m, 1h)",
                        "defaults.server.lifetime: 30 has no unit; use a whole number followed by ms, s, m or h"
                                + " (e.g. 500ms, 30s, 5m, 1h)",
                        "defaults.server.idle_timeout: 'soon' is not a duration; use a whole number followed by"
                                + " ms, s, m or h (e.g. 500ms, 30s, 5m, 1h)");
    }

    @Test
    void collectsProblemsFromDefaultsAndDatabasesTogether() {
        assertThat(problems("""
                defaults:
                  server: {check_timeout: 0s}
                databases:
                  appdb:
                    max_szie: 1
                    server: {keepalive: {count: 0}}
                """ + USERS)).containsExactly(
                "defaults.server.check_timeout: '0s' is not allowed; the timeout must be greater than zero",
                "databases.appdb.max_szie: unknown key; did you mean 'max_size'?",
                "databases.appdb.server.keepalive.count: 0 is too small; must be at least 1");
    }
}
