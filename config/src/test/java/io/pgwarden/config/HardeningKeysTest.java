package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * listen.max_pending_logins(_per_address) and server.allow_cleartext_password / allow_md5_password; the cleartext
 * rule left unset allows only verified TLS, which the proxy checks per connection.
 */
class HardeningKeysTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("ALLOW", "true", "APP_PASSWORD", "pw"));

    @Test
    void defaultsCapPendingLoginsAndRefuseOnlyCleartext() throws ConfigException {
        ProxyConfig config = loader.parse(ConfigLoaderTest.MINIMAL, "test.yaml");
        assertThat(config.listen().maxPendingLogins()).isEqualTo(1000);
        assertThat(config.listen().maxPendingLoginsPerAddress()).isEqualTo(250);
        assertThat(config.defaults().server().cleartextPassword()).isEqualTo(CleartextPasswordRule.OVER_VERIFIED_TLS);
        assertThat(config.database("appdb").orElseThrow().pool().server().cleartextPassword())
                .isEqualTo(CleartextPasswordRule.OVER_VERIFIED_TLS);
        assertThat(config.defaults().server().allowMd5Password()).isTrue();
    }

    @Test
    void readsTheKeysAndADatabaseOverridesOne() throws ConfigException {
        ProxyConfig config = loader.parse("""
                listen: {max_pending_logins: 50, max_pending_logins_per_address: 5}
                defaults:
                  server: {allow_cleartext_password: "${ALLOW}", allow_md5_password: false}
                databases:
                  appdb:
                    server: {allow_md5_password: true}
                users:
                  app: {password: pw}
                """, "test.yaml");
        assertThat(config.listen().maxPendingLogins()).isEqualTo(50);
        assertThat(config.listen().maxPendingLoginsPerAddress()).isEqualTo(5);
        assertThat(config.defaults().server().allowMd5Password()).isFalse();
        ServerSettings appdb = config.database("appdb").orElseThrow().pool().server();
        assertThat(appdb.cleartextPassword()).isEqualTo(CleartextPasswordRule.ALWAYS);
        assertThat(appdb.allowMd5Password()).isTrue();
    }

    @Test
    void anExplicitCleartextRuleIsInheritedAndOverriddenPerDatabase() throws ConfigException {
        ProxyConfig config = loader.parse("""
                defaults:
                  server: {allow_cleartext_password: false}
                databases:
                  appdb: {}
                  reports:
                    server: {allow_cleartext_password: true}
                  billing:
                    server: {tls: {mode: verify-full}}
                users:
                  app: {password: pw}
                """, "test.yaml");
        assertThat(config.database("appdb").orElseThrow().pool().server().cleartextPassword())
                .isEqualTo(CleartextPasswordRule.NEVER);
        assertThat(config.database("reports").orElseThrow().pool().server().cleartextPassword())
                .isEqualTo(CleartextPasswordRule.ALWAYS);
        // An explicit false stays false even where TLS would verify the server.
        assertThat(config.database("billing").orElseThrow().pool().server().cleartextPassword())
                .isEqualTo(CleartextPasswordRule.NEVER);
    }

    @Test
    void onlyTheUnsetRuleDependsOnVerifiedTls() {
        assertThat(CleartextPasswordRule.OVER_VERIFIED_TLS.allows(true)).isTrue();
        assertThat(CleartextPasswordRule.OVER_VERIFIED_TLS.allows(false)).isFalse();
        assertThat(CleartextPasswordRule.ALWAYS.allows(false)).isTrue();
        assertThat(CleartextPasswordRule.NEVER.allows(true)).isFalse();
    }

    @Test
    void badValuesNameTheirKeyPath() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse("""
                listen: {max_pending_logins: 0}
                defaults:
                  server: {allow_cleartext_password: maybe, allow_md5_password: 1}
                databases: {appdb: {}}
                users:
                  app: {password: pw}
                """, "test.yaml"));
        List<String> problems = e.problems();
        assertThat(problems).containsExactlyInAnyOrder(
                "listen.max_pending_logins: 0 is too small; must be at least 1",
                "defaults.server.allow_cleartext_password: 'maybe' is not true or false",
                "defaults.server.allow_md5_password: 1 is not true or false");
    }
}
