package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.tls}: libpq's modes, the files, per-database overrides and the problems each mistake reports. */
class ServerTlsConfigTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret"));

    @TempDir
    Path dir;

    private ProxyConfig parse(String yaml) throws ConfigException {
        return loader.parse(yaml, "t");
    }

    private List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.parse(yaml, "t"));
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e.problems();
    }

    private static String withDefaultsTls(String tls) {
        return ConfigLoaderTest.MINIMAL + "defaults:\n  server:\n    tls:\n" + tls.indent(6);
    }

    private Path file(String name) throws IOException {
        return Files.writeString(dir.resolve(name), "-----BEGIN CERTIFICATE-----\n");
    }

    @Test
    void theDefaultIsPreferWithNothingToCheck() throws ConfigException {
        ServerTlsSettings tls = parse(ConfigLoaderTest.MINIMAL).database("appdb").orElseThrow().pool().server().tls();
        assertThat(tls).isEqualTo(ServerTlsSettings.defaults());
        assertThat(tls.mode()).isEqualTo(ServerTlsMode.PREFER);
        assertThat(tls.verifiesChain()).isFalse();
        assertThat(tls.verifiesHostName()).isFalse();
    }

    @Test
    void readsEveryKeyAndADatabaseOverridesKeyByKey() throws Exception {
        Path ca = file("ca.crt");
        Path cert = file("client.crt");
        Path key = file("client.key");
        ProxyConfig config = parse("""
                databases:
                  appdb:
                    host: 127.0.0.1
                    port: 5432
                    server:
                      tls:
                        mode: verify-ca
                        cert_file: %s
                        key_file: %s
                  other:
                    host: 127.0.0.1
                    port: 5432
                users:
                  app:
                    password: ${APP_PASSWORD}
                defaults:
                  server:
                    tls:
                      mode: verify-full
                      ca_file: %s
                      server_name: db.internal
                      provider: openssl
                """.formatted(cert, key, ca));

        assertThat(config.database("other").orElseThrow().pool().server().tls()).isEqualTo(
                new ServerTlsSettings(ServerTlsMode.VERIFY_FULL, ca, null, null, "db.internal",
                        ServerTlsSettings.Provider.OPENSSL));
        ServerTlsSettings appdb = config.database("appdb").orElseThrow().pool().server().tls();
        assertThat(appdb).isEqualTo(new ServerTlsSettings(ServerTlsMode.VERIFY_CA, ca, cert, key, "db.internal",
                ServerTlsSettings.Provider.OPENSSL));
        assertThat(appdb.verifiesChain()).isTrue();
        assertThat(appdb.verifiesHostName()).isFalse();
    }

    @Test
    void everyLibpqModeIsSpelledAsLibpqSpellsIt() throws Exception {
        for (ServerTlsMode mode : ServerTlsMode.values()) {
            assertThat(parse(withDefaultsTls("mode: " + mode.spelling())).defaults().server().tls().mode())
                    .isEqualTo(mode);
        }
    }

    @Test
    void requireWithACaChecksTheChainAsLibpqDoes() throws Exception {
        ServerTlsSettings tls = parse(withDefaultsTls("mode: require\nca_file: " + file("ca.crt")))
                .defaults().server().tls();
        assertThat(tls.verifiesChain()).isTrue();
        assertThat(tls.verifiesHostName()).isFalse();
    }

    @Test
    void badValuesAreReportedWithTheirPath() throws Exception {
        Path cert = file("client.crt");
        assertThat(problems(withDefaultsTls("""
                mode: verify
                ca_file: %s
                cert_file: %s
                sslmode: require
                provider: boringssl
                """.formatted(dir.resolve("missing.crt"), cert)))).containsExactlyInAnyOrder(
                "defaults.server.tls.sslmode: unknown key; expected one of mode, ca_file, cert_file, key_file, "
                        + "server_name, provider",
                "defaults.server.tls.provider: 'boringssl' is not one of jdk, openssl",
                "defaults.server.tls.mode: 'verify' is not one of disable, allow, prefer, require, verify-ca, "
                        + "verify-full",
                "defaults.server.tls.ca_file: file '" + dir.resolve("missing.crt")
                        + "' does not exist or is not a regular file",
                "defaults.server.tls.key_file: is missing; defaults.server.tls.cert_file is set, and a client "
                        + "certificate needs both its certificate and its key");
    }

    @Test
    void aDatabaseOverrideIsCheckedUnderItsOwnPath() {
        assertThat(problems(ConfigLoaderTest.MINIMAL.replace("    port: 5432\n",
                "    port: 5432\n    server:\n      tls:\n        mode: ssl\n        server_name: ''\n")))
                .containsExactlyInAnyOrder(
                        "databases.appdb.server.tls.mode: 'ssl' is not one of disable, allow, prefer, require, "
                                + "verify-ca, verify-full",
                        "databases.appdb.server.tls.server_name: must not be empty");
    }
}
