package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules a configuration must satisfy, and the exact sentences that explain a violation. */
class ConfigValidationTest {
    private static final String SECRET = "hunter2-very-secret";

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", SECRET));

    private List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse(yaml, "test.yaml"));
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e.problems();
    }

    /** A valid file plus {@code extra} lines under databases.appdb. */
    private List<String> appdbProblems(String extra) {
        return problems("databases:\n  appdb:\n" + extra.indent(4) + "users:\n  app: {password: pw}\n");
    }

    private List<String> defaultsProblems(String extra) {
        return problems(ConfigLoaderTest.MINIMAL + "defaults:\n" + extra.indent(2));
    }

    // --- unknown keys

    @Test
    void rejectsUnknownKeyNamingPathAndSuggestion() {
        assertThat(appdbProblems("max_szie: 10"))
                .containsExactly("databases.appdb.max_szie: unknown key; did you mean 'max_size'?");
    }

    @Test
    void suggestsMaxPreparedStatementsForAMisspelling() {
        assertThat(defaultsProblems("max_prepared_statement: 10"))
                .containsExactly("defaults.max_prepared_statement: unknown key; did you mean 'max_prepared_statements'?");
        assertThat(appdbProblems("max_prepared_statments: 10"))
                .containsExactly("databases.appdb.max_prepared_statments: unknown key;"
                        + " did you mean 'max_prepared_statements'?");
    }

    @Test
    void suggestsTheKeyForACaseMismatch() {
        assertThat(defaultsProblems("Pool_Mode: session"))
                .containsExactly("defaults.Pool_Mode: unknown key; did you mean 'pool_mode'?");
    }

    @Test
    void rejectsUnknownTopLevelKeyWithSuggestion() {
        assertThat(problems(ConfigLoaderTest.MINIMAL + "databse: {}\n"))
                .containsExactly("databse: unknown key; did you mean 'databases'?");
    }

    @Test
    void listsTheAllowedKeysWhenNothingIsClose() {
        assertThat(problems(ConfigLoaderTest.MINIMAL + "logging: {}\n"))
                .containsExactly("logging: unknown key; expected one of listen, defaults, databases, users,"
                        + " admin, auth, access");
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {bind_address: x}\n"))
                .containsExactly("listen.bind_address: unknown key; expected one of host, port, max_client_connections, worker_threads,"
                        + " max_pending_logins, max_pending_logins_per_address, max_prepared_statement_bytes,"
                        + " max_prepared_statement_bytes_per_client, shutdown_timeout, transport, reuse_port, handover_socket, peer_id, peers,"
                        + " tls, login_throttle");
    }

    @Test
    void rejectsUnknownKeysInUsersWithoutRevealingThePassword() {
        assertThat(problems("databases: {appdb: {}}\nusers:\n  app: {passwd: " + SECRET + "}\n"))
                .containsExactly(
                        "users.app.passwd: unknown key; did you mean 'password'?",
                        "users.app.password: is required; every user needs a password");
    }

    // --- wrong types

    @Test
    void rejectsAListWhereAMappingIsExpected() {
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: [127.0.0.1, 6432]\n"))
                .containsExactly("listen: expected a mapping (key: value lines) but found a list");
        assertThat(problems("databases:\n  appdb: localhost\nusers:\n  app: {password: pw}\n"))
                .containsExactly("databases.appdb: expected a mapping (key: value lines) but found a string");
        assertThat(problems("databases: {appdb: {}}\nusers:\n  app: " + SECRET + "\n"))
                .containsExactly("users.app: expected a mapping (key: value lines) but found a string");
    }

    @Test
    void rejectsAPoolModeNotInTheAllowedSet() {
        assertThat(defaultsProblems("pool_mode: transactoin"))
                .containsExactly("defaults.pool_mode: 'transactoin' is not one of session, transaction");
    }

    @Test
    void rejectsAnAuthMethodNotInTheAllowedSet() {
        assertThat(problems("databases: {appdb: {}}\nusers:\n  app: {password: pw, auth: scram}\n"))
                .containsExactly("users.app.auth: 'scram' is not one of scram-sha-256, md5, cleartext");
    }

    @Test
    void rejectsAStringForASizeNamingTheValue() {
        assertThat(appdbProblems("max_size: ten"))
                .containsExactly("databases.appdb.max_size: 'ten' is not an integer");
    }

    @Test
    void rejectsDecimalsAndBooleansForIntegers() {
        assertThat(appdbProblems("port: 54.32\nmin_size: true"))
                .containsExactly(
                        "databases.appdb.port: 54.32 is not an integer",
                        "databases.appdb.min_size: true is not an integer");
    }

    @Test
    void rejectsAMappingForAString() {
        assertThat(appdbProblems("host: {name: x}"))
                .containsExactly("databases.appdb.host: expected a string but found a mapping");
    }

    @Test
    void rejectsANumberForAStringAskingForQuotes() {
        assertThat(appdbProblems("dbname: 2024"))
                .containsExactly("databases.appdb.dbname: 2024 is not a string; put it in quotes");
    }

    @Test
    void rejectsAKeyWithoutValue() {
        assertThat(appdbProblems("port:"))
                .containsExactly("databases.appdb.port: has no value; expected an integer");
    }

    @Test
    void rejectsEmptyHostAndDbname() {
        assertThat(appdbProblems("host: ''\ndbname: ' '"))
                .containsExactly(
                        "databases.appdb.host: must not be empty",
                        "databases.appdb.dbname: must not be empty");
    }

    @Test
    void rejectsBooleanKeysAskingForQuotes() {
        assertThat(problems("databases:\n  on: {}\nusers:\n  app: {password: pw}\n"))
                .containsExactly("databases: key true is not a string; put it in quotes (YAML reads unquoted"
                                + " yes, no, on, off, true and false as booleans)",
                        "databases: at least one database is required");
    }

    // --- durations

    @Test
    void rejectsADurationWithAnUnknownUnitSayingWhatIsAllowed() {
        assertThat(defaultsProblems("query_wait_timeout: 30 sec"))
                .containsExactly("defaults.query_wait_timeout: '30 sec' is not a duration; use a whole number"
                        + " followed by ms, s, m or h (e.g. 500ms, 30s, 5m, 1h)");
    }

    @Test
    void rejectsAYamlIntegerForADurationBecauseTheUnitIsAmbiguous() {
        assertThat(appdbProblems("query_wait_timeout: 30"))
                .containsExactly("databases.appdb.query_wait_timeout: 30 has no unit; use a whole number followed by"
                        + " ms, s, m or h (e.g. 500ms, 30s, 5m, 1h)");
    }

    @Test
    void rejectsZeroTimeouts() {
        assertThat(defaultsProblems("query_wait_timeout: 0s\nserver: {connect_timeout: 0ms}"))
                .containsExactly(
                        "defaults.query_wait_timeout: '0s' is not allowed; the timeout must be greater than zero",
                        "defaults.server.connect_timeout: '0ms' is not allowed; the timeout must be greater than zero");
    }

    @Test
    void rejectsNegativeAndFractionalDurations() {
        assertThat(defaultsProblems("query_wait_timeout: -5s\nserver: {connect_timeout: 1.5s}"))
                .hasSize(2)
                .allSatisfy(problem -> assertThat(problem).contains("is not a duration; use a whole number"));
    }

    // --- sizes and ports

    @Test
    void rejectsMinSizeAboveMaxSizeNamingTheDatabase() {
        assertThat(appdbProblems("min_size: 12\nmax_size: 10"))
                .containsExactly("databases.appdb: min_size (12) must not exceed max_size (10)");
    }

    @Test
    void checksMinAgainstMaxOnTheMergedSettings() {
        // min_size comes from defaults, max_size from the database: only the merge reveals the conflict.
        assertThat(problems("""
                defaults:
                  min_size: 5
                databases:
                  ok: {}
                  small: {max_size: 3}
                users:
                  app: {password: pw}
                """)).containsExactly("databases.small: min_size (5) must not exceed max_size (3)");
    }

    @Test
    void acceptsADatabaseThatResolvesAConflictInTheDefaults() throws ConfigException {
        ProxyConfig config = loader.parse("""
                defaults: {min_size: 30, max_size: 20}
                databases:
                  big: {max_size: 40}
                users:
                  app: {password: pw}
                """, "t");
        assertThat(config.database("big").orElseThrow().pool().maxSize()).isEqualTo(40);
    }

    @Test
    void doesNotCompareSizesThatFailedToRead() {
        assertThat(appdbProblems("min_size: 12\nmax_size: ten"))
                .containsExactly("databases.appdb.max_size: 'ten' is not an integer");
        assertThat(problems("""
                defaults: {max_size: ten}
                databases:
                  appdb: {min_size: 25}
                users:
                  app: {password: pw}
                """)).containsExactly("defaults.max_size: 'ten' is not an integer");
    }

    @Test
    void enforcesLowerBoundsOnSizes() {
        assertThat(defaultsProblems("min_size: -1\nmax_size: 0"))
                .containsExactly(
                        "defaults.min_size: -1 is too small; must be at least 0",
                        "defaults.max_size: 0 is too small; must be at least 1");
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {worker_threads: -1}\n"))
                .containsExactly("listen.worker_threads: -1 is out of range; must be between 0 and 256");
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {max_client_connections: 0}\n"))
                .containsExactly("listen.max_client_connections: 0 is too small; must be at least 1");
    }

    @Test
    void boundsPreparedStatementMemoryNamingTheKey() {
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {max_prepared_statement_bytes: 10}\n"))
                .containsExactly("listen.max_prepared_statement_bytes: 10 is too small; must be at least 1024");
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {max_prepared_statement_bytes_per_client: x}\n"))
                .hasSize(1).allMatch(p -> p.startsWith("listen.max_prepared_statement_bytes_per_client: "));
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {max_prepared_statement_bytes: 1048576,"
                + " max_prepared_statement_bytes_per_client: 2097152}\n"))
                .containsExactly("listen: max_prepared_statement_bytes_per_client (2097152) must not exceed"
                        + " max_prepared_statement_bytes (1048576)");
    }

    @Test
    void rejectsMaxPreparedStatementsBelowOne() {
        assertThat(defaultsProblems("max_prepared_statements: 0"))
                .containsExactly("defaults.max_prepared_statements: 0 is too small; must be at least 1");
        assertThat(appdbProblems("max_prepared_statements: 0"))
                .containsExactly("databases.appdb.max_prepared_statements: 0 is too small; must be at least 1");
    }

    @Test
    void rejectsMaxPreparedStatementsThatIsNotAnInteger() {
        assertThat(appdbProblems("max_prepared_statements: lots"))
                .containsExactly("databases.appdb.max_prepared_statements: 'lots' is not an integer");
        assertThat(defaultsProblems("max_prepared_statements: \"many\""))
                .containsExactly("defaults.max_prepared_statements: 'many' is not an integer");
    }

    @Test
    void rejectsIntegersBeyondJavaInt() {
        assertThat(defaultsProblems("max_size: 99999999999"))
                .containsExactly("defaults.max_size: 99999999999 is out of range; must be between 1 and 2147483647");
    }

    @Test
    void enforcesPortRanges() {
        assertThat(problems(ConfigLoaderTest.MINIMAL + "listen: {port: 70000}\n"))
                .containsExactly("listen.port: 70000 is out of range; must be between 0 and 65535");
        assertThat(appdbProblems("port: 0"))
                .containsExactly("databases.appdb.port: 0 is out of range; must be between 1 and 65535");
    }

    // --- required sections

    @Test
    void requiresAtLeastOneDatabaseAndOneUser() {
        assertThat(problems("listen: {port: 6432}\n")).containsExactly(
                "databases: at least one database is required",
                "users: at least one user is required");
        assertThat(problems("databases: {}\nusers: {}\n")).containsExactly(
                "databases: at least one database is required",
                "users: at least one user is required");
    }

    @Test
    void requiresANonEmptyPassword() {
        assertThat(problems("databases: {appdb: {}}\nusers:\n  app:\n  other: {password: ''}\n"))
                .containsExactly(
                        "users.app.password: is required; every user needs a password",
                        "users.other.password: must not be empty");
    }

    @Test
    void rejectsAnEnvironmentVariableThatExpandsToAnEmptyPassword() {
        ConfigLoader emptyEnv = new ConfigLoader(Map.of("APP_PASSWORD", ""));
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> emptyEnv.parse(ConfigLoaderTest.MINIMAL, "t"));
        assertThat(e.problems()).containsExactly("users.app.password: must not be empty");
    }

    // --- secrets

    @Test
    void neverRevealsAPasswordOfTheWrongType() {
        List<String> found = problems("databases: {appdb: {}}\nusers:\n  app: {password: 123456789}\n"
                + "  bob: {password: [" + SECRET + "]}\n  eve: {password: true}\n");
        assertThat(found).containsExactly(
                "users.app.password: expected a string but found an integer; put it in quotes",
                "users.bob.password: expected a string but found a list; put it in quotes",
                "users.eve.password: expected a string but found a boolean; put it in quotes");
        assertThat(String.join("\n", found)).doesNotContain("123456789").doesNotContain(SECRET);
    }

    @Test
    void neverRevealsAPasswordInSubstitutionErrors() {
        List<String> found = problems("databases: {appdb: {}}\nusers:\n  app: {password: \"" + SECRET + "${oops\"}\n"
                + "  bob: {password: \"${" + SECRET + "}\"}\n");
        assertThat(found).hasSize(2);
        assertThat(String.join("\n", found)).doesNotContain(SECRET);
    }

    @Test
    void neverRevealsASubstitutedPasswordWhenOtherThingsFail() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> loader.parse(ConfigLoaderTest.MINIMAL + "listen: {port: x}\n", "t"));
        assertThat(e.getMessage()).doesNotContain(SECRET);
    }

    // --- collecting everything

    @Test
    void collectsEveryProblemInOneException() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse("""
                listen:
                  port: 99999
                defaults:
                  pool_mode: transactoin
                  query_wait_timeout: 30 sec
                databases:
                  appdb:
                    max_szie: 10
                    min_size: 12
                    max_size: 10
                users:
                  app:
                    password: ${MISSING_PASSWORD}
                """, "pgwarden.yaml"));

        assertThat(e.problems()).containsExactly(
                "listen.port: 99999 is out of range; must be between 0 and 65535",
                "defaults.pool_mode: 'transactoin' is not one of session, transaction",
                "defaults.query_wait_timeout: '30 sec' is not a duration; use a whole number followed by ms, s, m"
                        + " or h (e.g. 500ms, 30s, 5m, 1h)",
                "databases.appdb.max_szie: unknown key; did you mean 'max_size'?",
                "databases.appdb: min_size (12) must not exceed max_size (10)",
                "users.app.password: environment variable MISSING_PASSWORD is not set"
                        + " (use ${MISSING_PASSWORD:-default} to give a default)");
        assertThat(e.getMessage()).startsWith("invalid configuration pgwarden.yaml:\n  - listen.port: ")
                .hasLineCount(7);
    }
}
