package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    static final String MINIMAL = """
            databases:
              appdb:
                host: 127.0.0.1
                port: 5432
            users:
              app:
                password: ${APP_PASSWORD}
            """;

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret"));

    @Test
    void loadsTheExampleFile() throws ConfigException {
        ProxyConfig config = loader.load(Path.of("..", "examples", "pgwarden.yaml"));

        assertThat(config.listen()).isEqualTo(new ListenConfig("127.0.0.1", 6432, 5000, 0));
        assertThat(config.defaults()).isEqualTo(PoolSettings.defaults());
        DatabaseConfig appdb = config.database("appdb").orElseThrow();
        assertThat(appdb).isEqualTo(new DatabaseConfig("appdb", "127.0.0.1", 5432, "appdb",
                new PoolSettings(PoolMode.TRANSACTION, 0, 10, Duration.ofSeconds(10), "DISCARD ALL", 200,
                        ServerSettings.defaults(), ClientSettings.defaults(), Duration.ZERO, Duration.ofSeconds(5))));
        assertThat(config.user("app")).contains(new UserConfig("app", "s3cret", AuthMethod.SCRAM_SHA_256));
        assertThat(config.admin()).isEqualTo(AdminConfig.defaults());
    }

    @Test
    void appliesBuiltInDefaultsForEverythingLeftOut() throws ConfigException {
        ProxyConfig config = loader.parse("""
                databases:
                  appdb:
                users:
                  app: {password: pw}
                """, "t");

        assertThat(config.listen()).isEqualTo(new ListenConfig("127.0.0.1", 6432, 5000));
        assertThat(config.defaults()).isEqualTo(PoolSettings.defaults());
        assertThat(config.database("appdb")).contains(
                new DatabaseConfig("appdb", "127.0.0.1", 5432, "appdb", PoolSettings.defaults()));
        assertThat(config.user("app").orElseThrow().auth()).isEqualTo(AuthMethod.SCRAM_SHA_256);
        assertThat(config.admin()).isEqualTo(new AdminConfig("pgwarden", List.of(), null));
    }

    @Test
    void mergesDatabaseOverridesOverTheDefaultsSection() throws ConfigException {
        ProxyConfig merged = loader.parse("""
                defaults:
                  pool_mode: transaction
                  max_size: 8
                  server: {connect_timeout: 2s}
                  server_reset_query: RESET ALL
                databases:
                  appdb: {}
                  reports:
                    dbname: real_name
                    pool_mode: session
                    min_size: 2
                    query_wait_timeout: 500ms
                    server: {connect_timeout: 1h}
                    server_reset_query: ""
                users:
                  app: {password: pw, auth: md5}
                """, "t");

        assertThat(merged.defaults()).isEqualTo(new PoolSettings(PoolMode.TRANSACTION, 0, 8,
                Duration.ofSeconds(10), "RESET ALL", 200, server(Duration.ofSeconds(2)), ClientSettings.defaults(),
                Duration.ZERO, Duration.ofSeconds(5)));
        assertThat(merged.database("appdb").orElseThrow().pool()).isEqualTo(merged.defaults());
        DatabaseConfig reports = merged.database("reports").orElseThrow();
        assertThat(reports.dbname()).isEqualTo("real_name");
        assertThat(reports.pool()).isEqualTo(new PoolSettings(PoolMode.SESSION, 2, 8,
                Duration.ofMillis(500), "", 200, server(Duration.ofHours(1)), ClientSettings.defaults(),
                Duration.ZERO, Duration.ofSeconds(5)));
        assertThat(merged.user("app").orElseThrow().auth()).isEqualTo(AuthMethod.MD5);
    }

    private static ServerSettings server(Duration connectTimeout) {
        ServerSettings d = ServerSettings.defaults();
        return new ServerSettings(d.keepalive(), d.tcpUserTimeout(), d.checkQuery(), d.checkDelay(), d.checkTimeout(),
                d.healthCheckInterval(), d.lifetime(), d.idleTimeout(), connectTimeout, d.replayCheckAfter());
    }

    @Test
    void defaultsMaxPreparedStatementsTo200() throws ConfigException {
        ProxyConfig config = loader.parse(MINIMAL, "t");

        assertThat(config.defaults().maxPreparedStatements()).isEqualTo(200);
        assertThat(config.database("appdb").orElseThrow().pool().maxPreparedStatements()).isEqualTo(200);
    }

    @Test
    void overridesMaxPreparedStatementsPerDatabase() throws ConfigException {
        ProxyConfig config = loader.parse("""
                defaults:
                  max_prepared_statements: 50
                databases:
                  appdb: {}
                  reports: {max_prepared_statements: 1000}
                users:
                  app: {password: pw}
                """, "t");

        assertThat(config.defaults().maxPreparedStatements()).isEqualTo(50);
        assertThat(config.database("appdb").orElseThrow().pool().maxPreparedStatements()).isEqualTo(50);
        assertThat(config.database("reports").orElseThrow().pool().maxPreparedStatements()).isEqualTo(1000);
    }

    @Test
    void keepsDatabasesAndUsersInFileOrderAndUnmodifiable() throws ConfigException {
        ProxyConfig config = loader.parse("""
                databases:
                  zeta: {}
                  alpha: {}
                  mid: {}
                users:
                  zoe: {password: a}
                  adam: {password: b, auth: cleartext}
                """, "t");

        assertThat(config.databases().keySet()).containsExactly("zeta", "alpha", "mid");
        assertThat(config.users().keySet()).containsExactly("zoe", "adam");
        assertThatThrownBy(() -> config.databases().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> config.users().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void acceptsPortZeroForListenSoTestsCanPickAFreePort() throws ConfigException {
        ProxyConfig config = loader.parse("listen: {port: 0}\n" + MINIMAL, "t");
        assertThat(config.listen().port()).isZero();
    }

    @Test
    void readsListenShutdownTimeoutWithThirtySecondsByDefault() throws ConfigException {
        assertThat(loader.parse(MINIMAL, "t").listen().shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(loader.parse("listen: {shutdown_timeout: 2m}\n" + MINIMAL, "t").listen().shutdownTimeout())
                .isEqualTo(Duration.ofMinutes(2));
        assertThat(loader.parse("listen: {shutdown_timeout: 0}\n" + MINIMAL, "t").listen().shutdownTimeout())
                .isZero();
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> loader.parse("listen: {shutdown_timeout: 30}\n" + MINIMAL, "t"));
        assertThat(e.problems()).containsExactly("listen.shutdown_timeout: 30 has no unit; " + Durations.ALLOWED);
    }

    @Test
    void acceptsIntegerDatabaseNamesAsStrings() throws ConfigException {
        ProxyConfig config = loader.parse("databases:\n  2024: {}\nusers:\n  app: {password: pw}\n", "t");
        assertThat(config.database("2024").orElseThrow().dbname()).isEqualTo("2024");
    }

    @Test
    void reportsAMissingFileNamingThePath(@TempDir Path dir) {
        Path missing = dir.resolve("nope.yaml");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(missing));
        assertThat(e.getMessage()).contains(missing.toString()).contains("does not exist");
        assertThat(e.problems()).singleElement().asString().startsWith(missing.toString());
    }

    @Test
    void reportsAFileThatIsNotUtf8(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, "users: {app: {password: \"caf\u00e9\"}}".getBytes(StandardCharsets.ISO_8859_1));
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(file));
        assertThat(e.problems()).containsExactly(file + ": is not valid UTF-8 text");
    }

    @Test
    void usesTheFilePathAsSourceNameInMessages(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "databases: {}\nusers: {}\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(file));
        assertThat(e.getMessage()).startsWith("invalid configuration " + file + ":\n  - ");
    }

    @Test
    void rejectsAnEmptyFile() {
        for (String empty : new String[] {"", "   \n", "# only a comment\n"}) {
            ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse(empty, "empty.yaml"));
            assertThat(e.problems()).singleElement().asString().contains("is empty");
            assertThat(e.getMessage()).startsWith("invalid configuration empty.yaml:");
        }
    }

    @Test
    void reportsYamlSyntaxErrorsWithLineAndColumn() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse("""
                databases:
                  appdb:
                    host: a: b
                """, "t"));
        assertThat(e.problems()).singleElement().asString()
                .startsWith("line 3, column 12: invalid YAML: ");
    }

    @Test
    void reportsUnclosedQuotesWithLine() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> loader.parse("users:\n  app:\n    password: \"abc\n", "t"));
        assertThat(e.problems()).singleElement().asString().startsWith("line 4, column 1: invalid YAML:");
    }

    @Test
    void rejectsDuplicateKeysNamingTheKeyPathAndLine() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse("""
                databases:
                  appdb:
                    port: 5432
                    port: 5433
                users:
                  app: {password: pw}
                """, "t"));
        assertThat(e.problems()).containsExactly("databases.appdb.port: duplicate key 'port' at line 4, column 5;"
                + " each key may appear only once in a mapping");
    }

    @Test
    void rejectsDuplicateDatabaseNames() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse("""
                databases:
                  appdb: {}
                  appdb: {port: 1}
                users:
                  app: {password: pw}
                """, "t"));
        assertThat(e.problems()).singleElement().asString()
                .startsWith("databases.appdb: duplicate key 'appdb' at line 3, column 3");
    }

    @Test
    void rejectsMoreThanOneDocument() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> loader.parse(MINIMAL + "---\nlisten: {}\n", "t"));
        assertThat(e.problems()).containsExactly("line 8, column 1: invalid YAML: expected a single document in the"
                + " stream but found another document");
    }

    @Test
    void refusesYamlTagsThatWouldInstantiateClasses() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse(
                "listen: !!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://x\"]]]]\n",
                "t"));
        assertThat(e.problems()).singleElement().asString().contains("line 1");
    }

    @Test
    void rejectsADocumentThatIsNotAMapping() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse("- a\n- b\n", "t"));
        assertThat(e.problems()).containsExactly("top level: expected a mapping (key: value lines) but found a list");
    }
}
