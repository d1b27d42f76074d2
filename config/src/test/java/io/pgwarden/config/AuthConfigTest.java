package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The auth: section: users looked up in PostgreSQL. */
class AuthConfigTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("AUTH_PW", "from-env"));

    private ProxyConfig parse(String auth) throws ConfigException {
        return loader.parse("databases: {appdb: {}, other: {}}\n" + auth, "test.yaml");
    }

    private ConfigException problems(String auth) {
        return catchThrowableOfType(ConfigException.class, () -> parse(auth));
    }

    @Test
    void withoutTheSectionNothingIsLookedUp() throws ConfigException {
        assertThat(parse("users: {app: {password: pw}}").auth()).isNull();
    }

    @Test
    void defaultsAreTheQueryOfPgAuthidAndThirtySeconds() throws ConfigException {
        AuthConfig auth = parse("auth: {user: pgwarden_auth, password: '${AUTH_PW}'}").auth();
        assertThat(auth.user()).isEqualTo("pgwarden_auth");
        assertThat(auth.password()).isEqualTo("from-env");
        assertThat(auth.query()).isEqualTo("SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE "
                + "rolpassword END FROM pg_authid WHERE rolname = $1 AND rolcanlogin");
        assertThat(auth.database()).isNull();
        assertThat(auth.cacheTtl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(auth.toString()).doesNotContain("from-env");
    }

    @Test
    void readsEveryKey() throws ConfigException {
        AuthConfig auth = parse("""
                auth:
                  user: pgwarden_auth
                  password: secret
                  query: SELECT * FROM pgwarden.lookup($1)
                  database: other
                  cache_ttl: 5s""").auth();
        assertThat(auth).isEqualTo(new AuthConfig("pgwarden_auth", "secret", "SELECT * FROM pgwarden.lookup($1)",
                "other", Duration.ofSeconds(5)));
    }

    @Test
    void theAuthUserMayTakeItsPasswordFromUsers() throws ConfigException {
        ProxyConfig config = parse("auth: {user: app}\nusers: {app: {password: pw}}");
        assertThat(config.auth().password()).isNull();
        assertThat(config.auth().loginUser(config).password()).isEqualTo("pw");
    }

    @Test
    void problemsNameTheirKey() {
        assertThat(problems("auth: {user: pgwarden_auth}").problems()).containsExactly(
                "auth.password: is required; auth.user 'pgwarden_auth' is not under users, so pgwarden has no "
                        + "other secret to log in with");
        assertThat(problems("auth: {password: pw}").problems()).containsExactly(
                "auth.user: is required; name the PostgreSQL role pgwarden logs in as to look users up");
        assertThat(problems("auth: {user: a, password: pw, cache_tll: 5s}").problems()).singleElement().asString()
                .startsWith("auth.cache_tll: unknown key; did you mean 'cache_ttl'?");
        assertThat(problems("auth: {user: a, password: pw, database: otehr}").problems()).containsExactly(
                "auth.database: 'otehr' is not a database configured under databases; did you mean 'other'?");
        assertThat(problems("auth: {user: a, password: pw, cache_ttl: soon}").problems()).singleElement()
                .asString().startsWith("auth.cache_ttl: ");
        assertThat(problems("auth: {user: a, password: pw, query: ''}").problems()).containsExactly(
                "auth.query: must not be empty");
    }
}
