package io.pgwarden.config;

import java.util.Collection;
import java.util.Optional;

/** Finds the known key a misspelt key was probably meant to be. */
final class KeySuggestions {
    private static final int MAX_DISTANCE = 2;

    private KeySuggestions() {
    }

    /** A case-insensitive match wins; otherwise the nearest key within edit distance 2, first one on ties. */
    static Optional<String> closest(String unknown, Collection<String> known) {
        for (String candidate : known) {
            if (candidate.equalsIgnoreCase(unknown)) {
                return Optional.of(candidate);
            }
        }
        String best = null;
        int bestDistance = MAX_DISTANCE + 1;
        for (String candidate : known) {
            int distance = levenshtein(unknown, candidate);
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        return Optional.ofNullable(best);
    }

    static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
