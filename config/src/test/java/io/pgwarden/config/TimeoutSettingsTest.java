package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The client timeouts under {@code client:} and the query timeouts directly under defaults or a database:
 * defaults, key-by-key merging and their validation.
 */
class TimeoutSettingsTest {
    private static final String USERS = "users:\n  app: {password: pw}\n";
    private static final String DURATION_SYNTAX =
            "use a whole number followed by ms, s, m or h (e.g. 500ms, 30s, 5m, 1h)";

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret", "NOTICE", "2s"));

    private ProxyConfig parse(String yaml) throws ConfigException {
        return loader.parse(yaml, "t");
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
        ClientSettings client = ClientSettings.defaults();
        assertThat(client.keepalive()).isEqualTo(Keepalive.defaults());
        assertThat(client.idleTimeout()).isZero();
        assertThat(client.idleInTransactionTimeout()).isZero();
        assertThat(client.idleInTransactionWarning()).isEqualTo(Duration.ofSeconds(5));
        assertThat(client.loginTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(client.leakAfter()).isEqualTo(Duration.ofSeconds(2));
        assertThat(PoolSettings.defaults().queryWaitTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(PoolSettings.defaults().queryTimeout()).isZero();
        assertThat(PoolSettings.defaults().queryWaitNotice()).isEqualTo(Duration.ofSeconds(5));

        ProxyConfig config = parse(ConfigLoaderTest.MINIMAL);
        assertThat(config.defaults()).isEqualTo(PoolSettings.defaults());
        assertThat(config.database("appdb").orElseThrow().pool()).isEqualTo(PoolSettings.defaults());
    }

    @Test
    void readsEveryKey() throws ConfigException {
        ProxyConfig config = parse(ConfigLoaderTest.MINIMAL + """
                defaults:
                  query_timeout: 2m
                  query_wait_notice: ${NOTICE}
                  client:
                    idle_timeout: 1h
                    idle_in_transaction_timeout: 5m
                    idle_in_transaction_warning: 10s
                    login_timeout: 15s
                    leak_after: 750ms
                """);

        PoolSettings defaults = config.defaults();
        assertThat(defaults.queryTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(defaults.queryWaitNotice()).isEqualTo(Duration.ofSeconds(2));
        assertThat(defaults.client()).isEqualTo(new ClientSettings(Keepalive.defaults(), Duration.ofHours(1),
                Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofSeconds(15), Duration.ofMillis(750)));
        assertThat(config.database("appdb").orElseThrow().pool()).isEqualTo(defaults);
    }

    @Test
    void aDatabaseOverridesSingleKeysOfTheDefaults() throws ConfigException {
        ProxyConfig config = parse("""
                defaults:
                  query_timeout: 30s
                  client:
                    idle_timeout: 10m
                    login_timeout: 20s
                    keepalive: {count: 2}
                databases:
                  appdb:
                    query_wait_notice: 1s
                    client:
                      idle_in_transaction_timeout: 1m
                      login_timeout: 5s
                  reports:
                    query_timeout: 0s
                    client: {idle_in_transaction_warning: 0s, leak_after: 30s}
                  other: {}
                """ + USERS);

        PoolSettings appdb = config.database("appdb").orElseThrow().pool();
        assertThat(appdb.queryTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(appdb.queryWaitNotice()).isEqualTo(Duration.ofSeconds(1));
        assertThat(appdb.client()).isEqualTo(new ClientSettings(
                new Keepalive(Duration.ofSeconds(30), Duration.ofSeconds(10), 2), Duration.ofMinutes(10),
                Duration.ofMinutes(1), Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(2)));

        PoolSettings reports = config.database("reports").orElseThrow().pool();
        assertThat(reports.queryTimeout()).isZero();
        assertThat(reports.queryWaitNotice()).isEqualTo(Duration.ofSeconds(5));
        assertThat(reports.client().idleInTransactionWarning()).isZero();
        assertThat(reports.client().leakAfter()).as("independent of the warning").isEqualTo(Duration.ofSeconds(30));
        assertThat(reports.client().idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(reports.client().loginTimeout()).isEqualTo(Duration.ofSeconds(20));

        assertThat(config.database("other").orElseThrow().pool()).isEqualTo(config.defaults());
    }

    @Test
    void acceptsZeroWhereZeroSwitchesAFeatureOff() throws ConfigException {
        ProxyConfig config = parse(ConfigLoaderTest.MINIMAL + """
                defaults:
                  query_timeout: 0
                  query_wait_notice: 0s
                  client: {idle_timeout: 0ms, idle_in_transaction_timeout: 0s, idle_in_transaction_warning: 0,
                           leak_after: 0s}
                """);
        assertThat(config.defaults().queryTimeout()).isZero();
        assertThat(config.defaults().queryWaitNotice()).isZero();
        assertThat(config.defaults().client().idleTimeout()).isZero();
        assertThat(config.defaults().client().idleInTransactionTimeout()).isZero();
        assertThat(config.defaults().client().idleInTransactionWarning()).isZero();
        assertThat(config.defaults().client().leakAfter()).as("SHOW LEAKS lists every idle transaction").isZero();
    }

    @Test
    void rejectsAZeroLoginTimeout() {
        assertThat(defaultsProblems("client: {login_timeout: 0s}")).containsExactly(
                "defaults.client.login_timeout: '0s' is not allowed; the timeout must be greater than zero");
        assertThat(problems("databases:\n  appdb: {client: {login_timeout: 0}}\n" + USERS)).containsExactly(
                "databases.appdb.client.login_timeout: 0 has no unit; " + DURATION_SYNTAX);
    }

    @Test
    void rejectsWrongTypesNamingThePathAndWhatIsAllowed() {
        assertThat(defaultsProblems("""
                query_timeout: 30
                query_wait_notice: [5s]
                client:
                  idle_timeout: forever
                  idle_in_transaction_timeout: -1s
                  idle_in_transaction_warning: true
                  login_timeout:
                  leak_after: 2
                """)).containsExactly(
                "defaults.query_timeout: 30 has no unit; " + DURATION_SYNTAX,
                "defaults.query_wait_notice: expected a duration but found a list",
                "defaults.client.idle_timeout: 'forever' is not a duration; " + DURATION_SYNTAX,
                "defaults.client.idle_in_transaction_timeout: '-1s' is not a duration; " + DURATION_SYNTAX,
                "defaults.client.idle_in_transaction_warning: true is not a duration; " + DURATION_SYNTAX,
                "defaults.client.login_timeout: has no value; expected a duration",
                "defaults.client.leak_after: 2 has no unit; " + DURATION_SYNTAX);
        assertThat(problems("databases:\n  appdb: {client: {leak_after: -2s}}\n" + USERS)).containsExactly(
                "databases.appdb.client.leak_after: '-2s' is not a duration; " + DURATION_SYNTAX);
    }

    @Test
    void rejectsUnknownKeysWithSuggestions() {
        assertThat(defaultsProblems("query_timout: 1s\nquery_wait_notise: 1s")).containsExactly(
                "defaults.query_timout: unknown key; did you mean 'query_timeout'?",
                "defaults.query_wait_notise: unknown key; did you mean 'query_wait_notice'?");
        assertThat(defaultsProblems("client: {idle_in_transaction_timout: 1s, login_timeot: 1s, Idle_Timeout: 1s}"))
                .containsExactly(
                        "defaults.client.idle_in_transaction_timout: unknown key;"
                                + " did you mean 'idle_in_transaction_timeout'?",
                        "defaults.client.login_timeot: unknown key; did you mean 'login_timeout'?",
                        "defaults.client.Idle_Timeout: unknown key; did you mean 'idle_timeout'?");
        assertThat(problems("databases:\n  appdb: {client: {idle_in_transaction_warnings: 1s}}\n" + USERS))
                .containsExactly("databases.appdb.client.idle_in_transaction_warnings: unknown key;"
                        + " did you mean 'idle_in_transaction_warning'?");
        assertThat(defaultsProblems("client: {statement_timeout: 1s}")).containsExactly(
                "defaults.client.statement_timeout: unknown key; expected one of keepalive, idle_timeout,"
                        + " idle_in_transaction_timeout, idle_in_transaction_warning, login_timeout, leak_after");
        assertThat(defaultsProblems("client: {leaks_after: 1s}")).containsExactly(
                "defaults.client.leaks_after: unknown key; did you mean 'leak_after'?");
    }

    @Test
    void collectsProblemsFromDefaultsAndDatabasesTogether() {
        assertThat(problems("""
                defaults:
                  query_timeout: soon
                  client: {login_timeout: 0s}
                databases:
                  appdb:
                    query_wait_notice: 5
                    client: {idle_timeout: 1 m}
                """ + USERS)).containsExactly(
                "defaults.query_timeout: 'soon' is not a duration; " + DURATION_SYNTAX,
                "defaults.client.login_timeout: '0s' is not allowed; the timeout must be greater than zero",
                "databases.appdb.query_wait_notice: 5 has no unit; " + DURATION_SYNTAX,
                "databases.appdb.client.idle_timeout: '1 m' is not a duration; " + DURATION_SYNTAX);
    }
}
