package io.pgwarden.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JsonTest {

    private static String string(String value) {
        StringBuilder out = new StringBuilder();
        Json.string(out, value);
        return out.toString();
    }

    @Test
    void escapesQuotesBackslashesAndControlCharacters() {
        assertThat(string("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
        assertThat(string("\n\r\t\b\f")).isEqualTo("\"\\n\\r\\t\\b\\f\"");
        assertThat(string("\u0000\u001f\u2028")).isEqualTo("\"\\u0000\\u001f\\u2028\"");
        assertThat(string("ünïcödé €")).isEqualTo("\"ünïcödé €\"");
        assertThat(string(null)).isEqualTo("null");
    }
}
