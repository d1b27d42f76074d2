package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {
    private final EnvSubstitution env = new EnvSubstitution(Map.of("ENV", "prod", "EMPTY", "", "PG_PORT", "6543"));

    @Test
    void replacesAVariableAnywhereInTheValue() {
        assertThat(env.apply("db-${ENV}.local").value()).isEqualTo("db-prod.local");
        assertThat(env.apply("${ENV}-${ENV}").value()).isEqualTo("prod-prod");
    }

    @Test
    void usesTheDefaultWhenTheVariableIsUnsetOrEmpty() {
        assertThat(env.apply("db-${MISSING:-dev}.local").value()).isEqualTo("db-dev.local");
        assertThat(env.apply("${EMPTY:-fallback}").value()).isEqualTo("fallback");
        assertThat(env.apply("${ENV:-dev}").value()).isEqualTo("prod");
        assertThat(env.apply("${MISSING:-}").value()).isEmpty();
    }

    @Test
    void keepsASetButEmptyVariableWithoutDefault() {
        EnvSubstitution.Result result = env.apply("${EMPTY}");
        assertThat(result.ok()).isTrue();
        assertThat(result.value()).isEmpty();
    }

    @Test
    void treatsDoubleDollarBraceAsALiteral() {
        assertThat(env.apply("a$${ENV}b").value()).isEqualTo("a${ENV}b");
        assertThat(env.apply("cost $5 and $$").value()).isEqualTo("cost $5 and $$");
    }

    @Test
    void doesNotExpandReferencesInsideSubstitutedValues() {
        EnvSubstitution nested = new EnvSubstitution(Map.of("A", "${B}", "B", "x"));
        assertThat(nested.apply("${A}").value()).isEqualTo("${B}");
    }

    @Test
    void reportsAnUnsetVariableByNameWithHowToGiveADefault() {
        EnvSubstitution.Result result = env.apply("${APP_PASSWORD}");
        assertThat(result.ok()).isFalse();
        assertThat(result.problems()).containsExactly(
                "environment variable APP_PASSWORD is not set (use ${APP_PASSWORD:-default} to give a default)");
    }

    @Test
    void reportsEveryUnsetVariableInOneValue() {
        assertThat(env.apply("${A}:${B}").problems()).hasSize(2);
    }

    @Test
    void reportsAnUnclosedReference() {
        assertThat(env.apply("abc${ENV").problems())
                .containsExactly("'${' has no closing '}'; write $${ for a literal ${");
    }

    @Test
    void reportsAnInvalidVariableNameWithoutQuotingTheValue() {
        for (String text : new String[] {"${}", "${1X}", "${A-B}", "${my var}"}) {
            assertThat(env.apply(text).problems()).as(text).singleElement().asString()
                    .contains("invalid variable name")
                    .doesNotContain(text);
        }
    }

    @Test
    void leavesTextWithoutReferencesUntouched() {
        assertThat(env.apply("plain: text {x}").value()).isEqualTo("plain: text {x}");
    }

    @Test
    void copiesTheEnvironmentSoLaterChangesDoNotLeakIn() {
        Map<String, String> source = new java.util.HashMap<>(Map.of("X", "1"));
        EnvSubstitution copy = new EnvSubstitution(source);
        source.put("X", "2");
        assertThat(copy.apply("${X}").value()).isEqualTo("1");
    }

    // Loader-level rules: substitution happens on parsed values, with the key path in messages.

    @Test
    void substitutesBeforeTypeConversionSoAPortCanComeFromTheEnvironment() throws ConfigException {
        ProxyConfig config = new ConfigLoader(Map.of("APP_PASSWORD", "pw", "PG_PORT", "6543", "POOL", "session", "WAIT", "2m"))
                .parse(ConfigLoaderTest.MINIMAL.replace("port: 5432", "port: ${PG_PORT:-5432}")
                        + "defaults:\n  pool_mode: ${POOL}\n  query_wait_timeout: ${WAIT}\n  max_size: ${MAX:-7}\n",
                        "test.yaml");
        assertThat(config.database("appdb").orElseThrow().port()).isEqualTo(6543);
        assertThat(config.defaults().poolMode()).isEqualTo(PoolMode.SESSION);
        assertThat(config.defaults().queryWaitTimeout()).hasMinutes(2);
        assertThat(config.defaults().maxSize()).isEqualTo(7);
    }

    @Test
    void usesTheDefaultInsideALargerValue() throws ConfigException {
        ProxyConfig config = new ConfigLoader(Map.of("APP_PASSWORD", "pw"))
                .parse(ConfigLoaderTest.MINIMAL.replace("host: 127.0.0.1", "host: db-${ENV:-dev}.local"), "t");
        assertThat(config.database("appdb").orElseThrow().host()).isEqualTo("db-dev.local");
    }

    @Test
    void namesTheKeyPathAndVariableWhenAVariableIsUnset() {
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).parse(ConfigLoaderTest.MINIMAL, "t"))
                .isInstanceOf(ConfigException.class)
                .extracting(e -> ((ConfigException) e).problems())
                .asList()
                .containsExactly("users.app.password: environment variable APP_PASSWORD is not set"
                        + " (use ${APP_PASSWORD:-default} to give a default)");
    }

    @Test
    void namesTheKeyPathOfAnUnclosedReference() {
        assertThatThrownBy(() -> new ConfigLoader(Map.of())
                .parse(ConfigLoaderTest.MINIMAL.replace("host: 127.0.0.1", "host: \"${DB_HOST\""), "t"))
                .isInstanceOf(ConfigException.class)
                .extracting(e -> ((ConfigException) e).problems())
                .asList()
                .contains("databases.appdb.host: '${' has no closing '}'; write $${ for a literal ${");
    }

    @Test
    void keepsEscapedReferencesLiteralInTheLoadedConfig() throws ConfigException {
        ProxyConfig config = new ConfigLoader(Map.of())
                .parse(ConfigLoaderTest.MINIMAL.replace("${APP_PASSWORD}", "\"pa$${ss}\""), "t");
        assertThat(config.user("app").orElseThrow().password()).isEqualTo("pa${ss}");
    }

    @Test
    void doesNotLetAnEnvironmentValueChangeTheYamlStructure() throws ConfigException {
        ProxyConfig config = new ConfigLoader(Map.of("APP_PASSWORD", "x\nlisten: {port: 1}"))
                .parse(ConfigLoaderTest.MINIMAL, "t");
        assertThat(config.user("app").orElseThrow().password()).isEqualTo("x\nlisten: {port: 1}");
        assertThat(config.listen().port()).isEqualTo(6432);
    }

    @Test
    void reportsANonNumericSubstitutedPortWithItsPath() {
        assertThatThrownBy(() -> new ConfigLoader(Map.of("APP_PASSWORD", "pw", "PG_PORT", "abc"))
                .parse(ConfigLoaderTest.MINIMAL.replace("port: 5432", "port: ${PG_PORT}"), "t"))
                .extracting(e -> ((ConfigException) e).problems())
                .asList()
                .containsExactly("databases.appdb.port: 'abc' is not an integer");
    }
}
