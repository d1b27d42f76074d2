package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A configuration printed whole (a log line, a test failure) shows no secret, however it was written. */
class SecretsNotPrintedTest {

    @Test
    void theWholeConfigurationPrintsNoPasswordOrToken() throws Exception {
        LoadedConfig loaded = new ConfigLoader(Map.of("TOKEN", "env-token-value")).read("""
                databases: {appdb: {}}
                users:
                  app: {password: file-password-value}
                  ann: {password: other-password-value, auth: md5}
                admin:
                  users: [app]
                  http: {metrics_token: "${TOKEN}"}
                access:
                  - {user: app, method: md5}
                """, "test.yaml");
        assertThat(loaded.toString()).contains("app", "ann", "method=MD5")
                .doesNotContain("file-password-value", "other-password-value", "env-token-value");
    }
}
