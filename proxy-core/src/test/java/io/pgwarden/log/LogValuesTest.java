package io.pgwarden.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogValuesTest {

    @Test
    void controlCharactersQuotesAndBackslashesAreEscapedInsideOneQuotedValue() {
        assertThat(LogValues.quote("database \"x\" does not exist")).isEqualTo("\"database \\\"x\\\" does not exist\"");
        assertThat(LogValues.quote("a\nb\rc\td\\e")).isEqualTo("\"a\\nb\\rc\\td\\\\e\"");
        assertThat(LogValues.quote("\u001b[2J\u0000\u007f\u0085\u2028\u202e")).isEqualTo(
                "\"\\u001b[2J\\u0000\\u007f\\u0085\\u2028\\u202e\"");
        assertThat(LogValues.quote("Zoë 日本")).isEqualTo("\"Zoë 日本\"");
        assertThat(LogValues.quote(null)).isEqualTo("\"\"");
    }
}
