package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code admin:} section: defaults, the optional HTTP endpoint and the checks against databases and users. */
class AdminConfigTest {
    private static final String BASE = """
            databases:
              appdb: {}
              reports: {}
            users:
              app: {password: pw}
              bob: {password: pw}
              ops: {password: pw}
            """;

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret", "ADMIN_DB", "console",
            "HTTP_PORT", "9200"));

    private AdminConfig admin(String adminYaml) throws ConfigException {
        return loader.parse(BASE + "admin:\n" + adminYaml.indent(2), "t").admin();
    }

    private List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse(yaml, "t"));
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e.problems();
    }

    private List<String> adminProblems(String adminYaml) {
        return problems(BASE + "admin:\n" + adminYaml.indent(2));
    }

    // --- defaults

    @Test
    void defaultsWhenTheSectionIsAbsent() throws ConfigException {
        AdminConfig admin = loader.parse(BASE, "t").admin();
        assertThat(admin).isEqualTo(AdminConfig.defaults()).isEqualTo(new AdminConfig("pgwarden", List.of(), null));
        assertThat(admin.http()).isNull();
        assertThat(admin.httpEnabled()).isFalse();
    }

    @Test
    void defaultsWhenTheSectionIsEmpty() throws ConfigException {
        assertThat(admin("")).isEqualTo(AdminConfig.defaults());
        assertThat(admin("{}")).isEqualTo(AdminConfig.defaults());
        assertThat(admin("users:")).isEqualTo(AdminConfig.defaults());
    }

    @Test
    void readsEveryKey() throws ConfigException {
        AdminConfig admin = admin("""
                database: ${ADMIN_DB}
                users: [ops, app]
                http:
                  host: 0.0.0.0
                  port: ${HTTP_PORT}
                """);
        assertThat(admin).isEqualTo(new AdminConfig("console", List.of("ops", "app"), new HttpConfig("0.0.0.0", 9200)));
        assertThat(admin.httpEnabled()).isTrue();
    }

    @Test
    void acceptsUsersAsABlockList() throws ConfigException {
        assertThat(admin("users:\n  - bob\n  - app\n").users()).containsExactly("bob", "app");
    }

    @Test
    void anHttpSectionWithoutKeysEnablesHttpWithItsDefaults() throws ConfigException {
        HttpConfig expected = new HttpConfig("127.0.0.1", 9187);
        assertThat(HttpConfig.defaults()).isEqualTo(expected);
        assertThat(admin("http: {}").http()).isEqualTo(expected);
        assertThat(admin("http:\n#  port: 1\n").http()).isEqualTo(expected);
        assertThat(admin("http: {port: 9999}").http()).isEqualTo(new HttpConfig("127.0.0.1", 9999));
        assertThat(admin("http: {host: '::1'}").http()).isEqualTo(new HttpConfig("::1", 9187));
    }

    @Test
    void readsTheMetricsTokenFromTheEnvironmentAndNeverPrintsIt() throws ConfigException {
        HttpConfig http = admin("http: {metrics_token: '${APP_PASSWORD}'}").http();
        assertThat(http).isEqualTo(new HttpConfig("127.0.0.1", 9187, "s3cret"));
        assertThat(http.toString()).doesNotContain("s3cret");
        assertThat(HttpConfig.defaults().metricsToken()).isNull();
        assertThat(adminProblems("http: {metrics_token: ''}"))
                .containsExactly("admin.http.metrics_token: must not be empty");
        assertThat(adminProblems("http: {metrics_token: 42}"))
                .containsExactly("admin.http.metrics_token: expected a string but found an integer; put it in quotes");
    }

    @Test
    void acceptsHttpPortZeroSoTestsCanPickAFreePort() throws ConfigException {
        assertThat(admin("http: {port: 0}").http().port()).isZero();
    }

    @Test
    void copiesTheUserListAndRejectsChanges() {
        List<String> users = new ArrayList<>(List.of("app"));
        AdminConfig admin = new AdminConfig("pgwarden", users, null);
        users.add("bob");
        assertThat(admin.users()).containsExactly("app");
        assertThatThrownBy(() -> admin.users().add("x")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> new AdminConfig(null, List.of(), null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new HttpConfig(null, 1)).isInstanceOf(NullPointerException.class);
    }

    // --- unknown keys and wrong types

    @Test
    void rejectsUnknownKeysWithSuggestions() {
        assertThat(adminProblems("databse: x\nuser: [app]\nhttp: {hots: x, prot: 1}\nlisten: {}")).containsExactly(
                "admin.databse: unknown key; did you mean 'database'?",
                "admin.user: unknown key; did you mean 'users'?",
                "admin.listen: unknown key; expected one of database, users, http",
                "admin.http.hots: unknown key; did you mean 'host'?",
                "admin.http.prot: unknown key; did you mean 'port'?");
        assertThat(problems(BASE + "admn: {}\n")).containsExactly("admn: unknown key; did you mean 'admin'?");
        assertThat(adminProblems("http: {address: x}"))
                .containsExactly("admin.http.address: unknown key; expected one of host, port, metrics_token");
    }

    @Test
    void rejectsWrongTypesNamingThePathAndWhatIsAllowed() {
        assertThat(problems(BASE + "admin: [app]\n"))
                .containsExactly("admin: expected a mapping (key: value lines) but found a list");
        assertThat(adminProblems("database: 42\nusers: app\nhttp: true")).containsExactly(
                "admin.database: 42 is not a string; put it in quotes",
                "admin.users: 'app' is not a list of user names; write it as [name, ...]",
                "admin.http: expected a mapping (key: value lines) but found a boolean");
        assertThat(adminProblems("database: ''\nusers: {app: yes}")).containsExactly(
                "admin.database: must not be empty",
                "admin.users: expected a list of user names but found a mapping");
        assertThat(adminProblems("users: [app, 7, '', [bob]]")).containsExactly(
                "admin.users[1]: 7 is not a string; put it in quotes",
                "admin.users[2]: must not be empty",
                "admin.users[3]: expected a string but found a list");
        assertThat(adminProblems("http: {host: '', port: 70000}")).containsExactly(
                "admin.http.host: must not be empty",
                "admin.http.port: 70000 is out of range; must be between 0 and 65535");
        assertThat(adminProblems("http: {port: web}")).containsExactly("admin.http.port: 'web' is not an integer");
    }

    // --- cross checks

    @Test
    void rejectsAnAdminDatabaseThatIsAlsoAConfiguredDatabase() {
        assertThat(adminProblems("database: reports")).containsExactly(
                "admin.database: 'reports' is also the name of databases.reports; the admin console needs a"
                        + " database name of its own, so rename one of them");
    }

    @Test
    void rejectsAConfiguredDatabaseNamedLikeTheDefaultAdminDatabase() {
        assertThat(problems("databases:\n  pgwarden: {}\nusers:\n  app: {password: pw}\n")).containsExactly(
                "admin.database: the default 'pgwarden' is also the name of databases.pgwarden; the admin console"
                        + " needs a database name of its own, so rename one of them");
    }

    @Test
    void acceptsADatabaseNamedPgwardenOnceTheAdminDatabaseIsRenamed() throws ConfigException {
        ProxyConfig config = loader.parse(
                "databases:\n  pgwarden: {}\nusers:\n  app: {password: pw}\nadmin: {database: console}\n", "t");
        assertThat(config.admin().database()).isEqualTo("console");
        assertThat(config.database("pgwarden")).isPresent();
    }

    @Test
    void comparesTheAdminDatabaseCaseSensitivelyLikePostgres() throws ConfigException {
        assertThat(admin("database: AppDB").database()).isEqualTo("AppDB");
    }

    @Test
    void rejectsAnAdminUserThatIsNotConfiguredNamingIt() {
        assertThat(adminProblems("users: [app, bbo, Ops, nobody_here]")).containsExactly(
                "admin.users[1]: 'bbo' is not a user configured under users; did you mean 'bob'?",
                "admin.users[2]: 'Ops' is not a user configured under users; did you mean 'ops'?",
                "admin.users[3]: 'nobody_here' is not a user configured under users; expected one of app, bob, ops");
    }

    @Test
    void rejectsAnAdminUserListedTwice() {
        assertThat(adminProblems("users: [app, ops, app]"))
                .containsExactly("admin.users[2]: 'app' is listed more than once");
    }

    @Test
    void countsAUserWithProblemsOfItsOwnAsConfigured() {
        // bob has no password: that is the problem to report, not an "unknown user" in admin.users.
        assertThat(problems("databases: {appdb: {}}\nusers:\n  app: {password: pw}\n  bob: {auth: md5}\n"
                + "admin: {users: [bob]}\n"))
                .containsExactly("users.bob.password: is required; every user needs a password");
    }

    @Test
    void skipsCrossChecksAgainstABrokenSection() {
        assertThat(problems("databases: [pgwarden]\nusers:\n  app: {password: pw}\nadmin: {users: [app]}\n"))
                .containsExactly("databases: expected a mapping (key: value lines) but found a list");
        assertThat(problems("databases: {appdb: {}}\nusers: [app]\nadmin: {users: [app]}\n"))
                .containsExactly("users: expected a mapping (key: value lines) but found a list");
        // A broken admin.database must not be replaced by the default and then reported as a collision.
        assertThat(problems("databases: {pgwarden: {}}\nusers:\n  app: {password: pw}\nadmin: {database: 1}\n"))
                .containsExactly("admin.database: 1 is not a string; put it in quotes");
    }

    @Test
    void namesTheUnknownUserWhenNoUsersAreConfigured() {
        assertThat(problems("databases: {appdb: {}}\nusers: {}\nadmin: {users: [app]}\n")).containsExactly(
                "users: at least one user is required",
                "admin.users[0]: 'app' is not a user configured under users");
    }

    @Test
    void collectsAdminProblemsWithTheRest() {
        assertThat(problems("""
                listen: {port: -1}
                databases:
                  pgwarden: {max_szie: 1}
                users:
                  app: {password: pw}
                admin:
                  users: [ap]
                  http: {port: 65536}
                """)).containsExactly(
                "listen.port: -1 is out of range; must be between 0 and 65535",
                "databases.pgwarden.max_szie: unknown key; did you mean 'max_size'?",
                "admin.database: the default 'pgwarden' is also the name of databases.pgwarden; the admin console"
                        + " needs a database name of its own, so rename one of them",
                "admin.users[0]: 'ap' is not a user configured under users; did you mean 'app'?",
                "admin.http.port: 65536 is out of range; must be between 0 and 65535");
    }
}
