package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeySuggestionsTest {
    private static final List<String> KEYS = List.of("min_size", "max_size", "pool_mode", "host", "port");

    @Test
    void suggestsAKeyWithinTwoEdits() {
        assertThat(KeySuggestions.closest("max_szie", KEYS)).contains("max_size");
        assertThat(KeySuggestions.closest("pool_mod", KEYS)).contains("pool_mode");
    }

    @Test
    void suggestsACaseInsensitiveMatchEvenWhenFarInEdits() {
        assertThat(KeySuggestions.closest("POOL_MODE", KEYS)).contains("pool_mode");
    }

    @Test
    void prefersTheNearestKey() {
        assertThat(KeySuggestions.closest("min_siz", KEYS)).contains("min_size");
    }

    @Test
    void suggestsNothingWhenNoKeyIsClose() {
        assertThat(KeySuggestions.closest("timeout", KEYS)).isEmpty();
    }

    @Test
    void computesLevenshteinDistance() {
        assertThat(KeySuggestions.levenshtein("kitten", "sitting")).isEqualTo(3);
        assertThat(KeySuggestions.levenshtein("", "abc")).isEqualTo(3);
        assertThat(KeySuggestions.levenshtein("same", "same")).isZero();
    }
}
