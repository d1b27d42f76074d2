package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code databases."*"} entry and forced backend users, as read from YAML. */
class AnyDatabaseConfigTest {
    private static final String SECRET = "reader-very-secret";

    private final ConfigLoader loader = new ConfigLoader(Map.of("READER_PASSWORD", SECRET));

    private ProxyConfig parse(String databases) throws ConfigException {
        return loader.parse("databases:\n" + databases.indent(2) + "users:\n  app: {password: pw}\n", "test.yaml");
    }

    private List<String> problems(String databases) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(databases));
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e.problems();
    }

    @Test
    void theStarEntryServesAnyNameWithItsOwnSettings() throws ConfigException {
        ProxyConfig config = parse("""
                "*":
                  host: db.internal
                  port: 5433
                  pool_mode: session
                  auto_database_idle_timeout: 10m
                  max_auto_pools: 7
                """);
        AnyDatabaseConfig any = config.anyDatabase();
        assertThat(any.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(any.maxPools()).isEqualTo(7);
        DatabaseConfig sales = any.forName("sales");
        assertThat(sales.dbname()).isEqualTo("sales");
        assertThat(sales.host()).isEqualTo("db.internal");
        assertThat(sales.port()).isEqualTo(5433);
        assertThat(sales.pool().poolMode()).isEqualTo(PoolMode.SESSION);
        // Not a named entry: a client asking for "*" gets no database of that name from it.
        assertThat(config.databases()).isEmpty();
        assertThat(config.database("*")).isEmpty();
    }

    @Test
    void theStarEntryDefaultsAsPgbouncersAutodb() throws ConfigException {
        AnyDatabaseConfig any = parse("\"*\": {}\n").anyDatabase();
        assertThat(any.idleTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(any.maxPools()).isEqualTo(AnyDatabaseConfig.DEFAULT_MAX_POOLS);
        assertThat(parse("appdb: {}\n").anyDatabase()).isNull();
    }

    @Test
    void theStarEntryTakesNoDbname() {
        assertThat(problems("\"*\": {dbname: other}\n")).containsExactly("databases.*.dbname: is not allowed here:"
                + " the \"*\" entry serves each database name a client asks for as that database;"
                + " name an entry to map a name to a dbname");
    }

    @Test
    void autoDatabaseKeysBelongToTheStarEntryOnly() {
        assertThat(problems("appdb: {auto_database_idle_timeout: 1m}\n"))
                .singleElement().asString().startsWith("databases.appdb.auto_database_idle_timeout: unknown key");
        assertThat(problems("\"*\": {max_auto_pools: 0}\n"))
                .singleElement().asString().startsWith("databases.*.max_auto_pools:");
    }

    @Test
    void aForcedUserHasAPasswordFromTheEnvironment() throws ConfigException {
        DatabaseConfig reports = parse("""
                reports:
                  dbname: sales
                  user: reader
                  password: ${READER_PASSWORD}
                """).database("reports").orElseThrow();
        assertThat(reports.user()).isEqualTo("reader");
        assertThat(reports.password()).isEqualTo(SECRET);
        assertThat(reports.forcedUser()).map(UserConfig::name).contains("reader");
        assertThat(reports.toString()).doesNotContain(SECRET);
        DatabaseConfig any = parse("\"*\": {user: reader, password: pw}\n").anyDatabase().forName("x");
        assertThat(any.user()).isEqualTo("reader");
        assertThat(parse("appdb: {}\n").database("appdb").orElseThrow().forcedUser()).isEmpty();
    }

    @Test
    void aPasswordNeedsAUser() {
        assertThat(problems("reports: {password: pw}\n")).containsExactly(
                "databases.reports.password: needs databases.reports.user, the role the pool logs in as with it");
    }
}
