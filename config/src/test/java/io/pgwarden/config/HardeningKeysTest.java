package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** listen.max_pending_logins(_per_address) and server.allow_cleartext_password / allow_md5_password. */
class HardeningKeysTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("ALLOW", "true", "APP_PASSWORD", "pw"));

    @Test
    void defaultsCapPendingLoginsAndRefuseOnlyCleartext() throws ConfigException {
        ProxyConfig config = loader.parse(ConfigLoaderTest.MINIMAL, "test.yaml");
        assertThat(config.listen().maxPendingLogins()).isEqualTo(1000);
        assertThat(config.listen().maxPendingLoginsPerAddress()).isEqualTo(250);
        assertThat(config.defaults().server().allowCleartextPassword()).isFalse();
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
        assertThat(appdb.allowCleartextPassword()).isTrue();
        assertThat(appdb.allowMd5Password()).isTrue();
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
