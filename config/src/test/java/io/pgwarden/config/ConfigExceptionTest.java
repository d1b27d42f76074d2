package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

    @Test
    void listsEveryProblemOnItsOwnLineUnderTheSourceName() {
        ConfigException e = new ConfigException("pgwarden.yaml", List.of("a: first", "b: second"));
        assertThat(e.getMessage()).isEqualTo("invalid configuration pgwarden.yaml:\n  - a: first\n  - b: second");
    }

    @Test
    void keepsAnUnmodifiableCopyOfTheProblems() {
        List<String> problems = new ArrayList<>(List.of("a: first"));
        ConfigException e = new ConfigException("x", problems);
        problems.add("b: later");
        assertThat(e.problems()).containsExactly("a: first");
        assertThatThrownBy(() -> e.problems().add("c")).isInstanceOf(UnsupportedOperationException.class);
    }
}
