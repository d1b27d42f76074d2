package io.pgwarden.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** SHOW CONFIG names the cleartext rule each database ends up with, which for the unset key depends on server.tls. */
class ConfigTableTest {

    @Test
    void showsTheEffectiveCleartextRulePerDatabase() throws ConfigException {
        Map<String, String> rows = rows("""
                databases:
                  plain: {}
                  unverified:
                    server: {tls: {mode: require}}
                  verified:
                    server: {tls: {mode: verify-full}}
                  refused:
                    server: {allow_cleartext_password: false, tls: {mode: verify-full}}
                  allowed:
                    server: {allow_cleartext_password: true, allow_md5_password: false}
                users:
                  app: {password: s3cret}
                """);
        String unverified = "false (not set, and server.tls does not verify the certificate)";
        assertThat(rows).containsEntry("defaults.server.allow_cleartext_password", unverified)
                .containsEntry("databases.plain.server.allow_cleartext_password", unverified)
                .containsEntry("databases.unverified.server.allow_cleartext_password", unverified)
                .containsEntry("databases.verified.server.allow_cleartext_password",
                        "only over TLS with a verified certificate (not set)")
                .containsEntry("databases.refused.server.allow_cleartext_password", "false")
                .containsEntry("databases.allowed.server.allow_cleartext_password", "true")
                .containsEntry("databases.plain.server.allow_md5_password", "true")
                .containsEntry("databases.allowed.server.allow_md5_password", "false");
        assertThat(rows.values()).noneMatch(v -> v.contains("s3cret"));
    }

    @Test
    void showsAccessRulesAndTheLoginThrottleButNoSecret() throws ConfigException {
        Map<String, String> rows = rows("""
                listen:
                  login_throttle: {failures: 5, window: 30s, max_delay: 2s}
                  shutdown_timeout: 12s
                databases: {appdb: {}}
                users:
                  app: {password: s3cret}
                admin:
                  users: [app]
                  http: {metrics_token: t0ken}
                access:
                  - {address: 10.0.0.0/8, method: reject}
                  - {database: appdb, user: [app], tls: required, method: md5}
                """);
        assertThat(rows).containsEntry("access[0]", "database=all user=all address=10.0.0.0/8 tls=any method=reject")
                .containsEntry("access[1]", "database=appdb user=app address=all tls=required method=md5")
                .containsEntry("listen.login_throttle.failures", "5")
                .containsEntry("listen.login_throttle.window", "PT30S")
                .containsEntry("listen.login_throttle.max_delay", "PT2S")
                .containsEntry("listen.shutdown_timeout", "PT12S");
        assertThat(rows.keySet()).noneMatch(k -> k.endsWith(".password") || k.endsWith(".metrics_token"));
        assertThat(rows.values()).noneMatch(v -> v.contains("s3cret") || v.contains("t0ken"));
    }

    private static Map<String, String> rows(String yaml) throws ConfigException {
        List<List<String>> rows = ConfigTable.of(new ConfigLoader(Map.of()).parse(yaml, "test.yaml")).rows();
        return rows.stream().collect(Collectors.toMap(r -> r.get(0), r -> r.get(1)));
    }
}
