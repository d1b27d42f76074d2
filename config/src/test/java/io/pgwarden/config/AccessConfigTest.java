package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** access: rules (pg_hba.conf-like) and listen.login_throttle. */
class AccessConfigTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of());

    private ProxyConfig parse(String extra) throws ConfigException {
        return loader.parse("""
                databases: {appdb: {}}
                users:
                  app: {password: pw}
                """ + extra, "test.yaml");
    }

    private List<String> problems(String extra) {
        return catchThrowableOfType(ConfigException.class, () -> parse(extra)).problems();
    }

    @Test
    void withoutAccessThereAreNoRules() throws ConfigException {
        assertThat(parse("").access()).isEmpty();
    }

    @Test
    void readsRulesInOrderWithTheirDefaults() throws Exception {
        List<AccessRule> rules = parse("""
                access:
                  - {address: 10.0.0.0/8, method: reject}
                  - {database: [appdb, other], user: app, address: 127.0.0.1, tls: required, method: md5}
                  - {user: all, address: "::1", method: cleartext}
                  - {method: scram-sha-256}
                """).access();
        assertThat(rules).extracting(AccessRule::describe).containsExactly(
                "database=all user=all address=10.0.0.0/8 tls=any method=reject",
                "database=appdb,other user=app address=127.0.0.1/32 tls=required method=md5",
                "database=all user=all address=0:0:0:0:0:0:0:1/128 tls=any method=cleartext",
                "database=all user=all address=all tls=any method=scram-sha-256");
        AddressRange ten = rules.get(0).address();
        assertThat(ten.contains(InetAddress.getByName("10.200.3.4"))).isTrue();
        assertThat(ten.contains(InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(ten.contains(InetAddress.getByName("::1"))).as("another family").isFalse();
    }

    @Test
    void cidrPrefixesMatchBitByBit() throws Exception {
        AddressRange range = new AddressRange(InetAddress.getByName("192.168.4.0"), 22);
        assertThat(range.contains(InetAddress.getByName("192.168.7.255"))).isTrue();
        assertThat(range.contains(InetAddress.getByName("192.168.8.0"))).isFalse();
        AddressRange v6 = new AddressRange(InetAddress.getByName("fd00::"), 8);
        assertThat(v6.contains(InetAddress.getByName("fdff::1"))).isTrue();
        assertThat(v6.contains(InetAddress.getByName("fe00::1"))).isFalse();
        assertThat(new AddressRange(InetAddress.getByName("0.0.0.0"), 0).contains(InetAddress.getByName("1.2.3.4")))
                .isTrue();
    }

    @Test
    void malformedRulesNameTheirIndexAndKey() {
        assertThat(problems("""
                access:
                  - {method: md5}
                  - {address: 10.0.0.0/33, method: md5}
                  - {address: db.example.com, method: md5}
                  - {user: [], method: md5}
                  - {usr: app, method: md5}
                  - {address: 127.0.0.1}
                  - {tls: maybe, method: trust}
                """)).containsExactly(
                "access[1].address: '10.0.0.0/33' has an invalid prefix length; after the / comes 0 to 32 for an"
                        + " IPv4 address",
                "access[2].address: 'db.example.com' is not an IP address; expected all, an address (10.1.2.3, ::1)"
                        + " or a CIDR block (10.0.0.0/8, fd00::/8)",
                "access[3].user: is an empty list, which matches nothing; name at least one, or write all",
                "access[4].usr: unknown key; did you mean 'user'?",
                "access[5].method: is required; one of scram-sha-256, md5, cleartext, cert, reject",
                "access[6].tls: 'maybe' is not one of any, required, none",
                "access[6].method: 'trust' is not one of scram-sha-256, md5, cleartext, cert, reject");
    }

    @Test
    void anEmptyListIsRefusedRatherThanLockingEveryoneOut() {
        assertThat(problems("access: []\n")).singleElement().asString().startsWith("access: has no rules");
        assertThat(problems("access:\n")).singleElement().asString().startsWith("access: has no rules");
    }

    @Test
    void certRulesNeedVerifiedClientCertificatesAndApplyToTlsOnly() throws Exception {
        assertThat(problems("access:\n  - {method: cert}\n")).containsExactly(
                "access[0].method: cert needs listen.tls.client_cert: verify, so that clients present a certificate"
                        + " pgwarden has checked");
        String tls = """
                listen:
                  tls: {mode: allow, cert_file: c.pem, key_file: k.pem, ca_file: ca.pem, client_cert: verify}
                """;
        assertThat(parse(tls + "access:\n  - {method: cert}\n").access().get(0).tls())
                .isEqualTo(AccessRule.Tls.REQUIRED);
        assertThat(problems(tls + "access:\n  - {tls: none, method: cert}\n")).containsExactly(
                "access[0].tls: cannot be none with method cert: a client certificate comes only over TLS");
    }

    @Test
    void loginThrottleHasDefaultsAndValidatedKeys() throws Exception {
        assertThat(parse("").listen().loginThrottle()).isEqualTo(
                new LoginThrottleConfig(10, Duration.ofMinutes(1), Duration.ofSeconds(5)));
        assertThat(parse("listen: {login_throttle: {failures: 3, window: 10s, max_delay: 200ms}}").listen()
                .loginThrottle()).isEqualTo(new LoginThrottleConfig(3, Duration.ofSeconds(10), Duration.ofMillis(200)));
        assertThat(problems("listen: {login_throttle: {failures: -1, window: 0s, max_dealy: 1s}}")).containsExactly(
                "listen.login_throttle.max_dealy: unknown key; did you mean 'max_delay'?",
                "listen.login_throttle.failures: -1 is too small; must be at least 0",
                "listen.login_throttle.window: '0s' is not allowed; the window must be greater than zero");
    }
}
