package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** listen.tls: mode, certificate files, client certificates, provider. */
class ListenTlsConfigTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("CERT", "/etc/pgwarden/tls.crt"));

    private ProxyConfig parse(String listen) throws ConfigException {
        return loader.parse(listen + """

                databases: {appdb: {}}
                users:
                  app: {password: pw}
                """, "test.yaml");
    }

    private ConfigException problems(String listen) {
        return catchThrowableOfType(ConfigException.class, () -> parse(listen));
    }

    @Test
    void tlsIsOffUnlessConfigured() throws ConfigException {
        ListenTls tls = parse("listen: {port: 6432}").listen().tls();
        assertThat(tls.mode()).isEqualTo(ListenTls.Mode.DISABLE);
        assertThat(tls.enabled()).isFalse();
    }

    @Test
    void boringSslIsTheDefaultProvider() throws ConfigException {
        // bench/results/tls.md: as fast or faster than the JDK's engine on every TLS workload, 0.6x its CPU per login.
        assertThat(parse("listen: {tls: {mode: allow, cert_file: c.pem, key_file: k.pem}}").listen().tls().provider())
                .isEqualTo(ListenTls.Provider.OPENSSL);
    }

    @Test
    void readsEveryKey() throws ConfigException {
        ListenTls tls = parse("""
                listen:
                  tls:
                    mode: require
                    cert_file: ${CERT}
                    key_file: /etc/pgwarden/tls.key
                    ca_file: /etc/pgwarden/ca.crt
                    client_cert: verify
                    provider: openssl""").listen().tls();
        assertThat(tls).isEqualTo(new ListenTls(ListenTls.Mode.REQUIRE, "/etc/pgwarden/tls.crt",
                "/etc/pgwarden/tls.key", "/etc/pgwarden/ca.crt", ListenTls.ClientCert.VERIFY,
                ListenTls.Provider.OPENSSL));
    }

    @Test
    void requireOrAllowWithoutACertificateNamesTheMissingKeys() {
        assertThat(problems("listen: {tls: {mode: require}}").problems()).containsExactly(
                "listen.tls.cert_file: is required when listen.tls.mode is require; name the PEM file holding the "
                        + "server certificate (and its chain)",
                "listen.tls.key_file: is required when listen.tls.mode is require; name the PEM file holding the "
                        + "certificate's private key");
        assertThat(problems("listen: {tls: {mode: allow, key_file: k.pem}}").problems()).containsExactly(
                "listen.tls.cert_file: is required when listen.tls.mode is allow; name the PEM file holding the "
                        + "server certificate (and its chain)");
    }

    @Test
    void unknownKeysAndBadValuesNameTheirPath() {
        assertThat(problems("listen: {tls: {mode: prefer, certfile: a.pem, client_cert: maybe}}").problems())
                .containsExactlyInAnyOrder(
                        "listen.tls.certfile: unknown key; did you mean 'cert_file'?",
                        "listen.tls.mode: 'prefer' is not one of disable, allow, require",
                        "listen.tls.client_cert: 'maybe' is not one of none, verify");
        assertThat(problems("listen: {tls: on}").problems())
                .containsExactly("listen.tls: expected a mapping (key: value lines) but found a boolean");
    }

    @Test
    void verifyingClientCertificatesNeedsACaFile() {
        assertThat(problems("listen: {tls: {mode: require, cert_file: c.pem, key_file: k.pem, client_cert: verify}}")
                .problems()).containsExactly("listen.tls.ca_file: is required with client_cert: verify; name the "
                + "PEM file of the CAs that client certificates must chain to");
    }
}
