package io.pgwarden.config;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * Reads typed values out of the maps SnakeYAML produced, expanding environment references first.
 *
 * <p>Nothing here throws: every problem is recorded against its key path and the read yields empty, so one
 * run reports everything that is wrong with a file instead of one problem per attempt.
 */
final class ConfigReader {
    private static final Pattern INTEGER = Pattern.compile("-?\\d+");

    private final EnvSubstitution env;
    private final List<String> problems = new ArrayList<>();

    ConfigReader(EnvSubstitution env) {
        this.env = env;
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    void problem(String path, String sentence) {
        problems.add((path.isEmpty() ? "top level" : path) + ": " + sentence);
    }

    List<String> problems() {
        return List.copyOf(problems);
    }

    int problemCount() {
        return problems.size();
    }

    /** A missing or empty section (everything commented out) reads as an empty mapping. */
    Optional<Map<String, Object>> mapping(String path, Object value) {
        if (value == null) {
            return Optional.of(Map.of());
        }
        if (!(value instanceof Map<?, ?> raw)) {
            // Only the kind: a user who writes "app: s3cret" under users must not see the password echoed.
            problem(path, "expected a mapping (key: value lines) but found " + kind(value));
            return Optional.empty();
        }
        Map<String, Object> result = new LinkedHashMap<>();
        raw.forEach((key, entry) -> {
            // Whole-number keys are harmless as names; anything else (yes/on become booleans) is surely a slip.
            if (key instanceof String || key instanceof Integer || key instanceof Long || key instanceof BigInteger) {
                if (result.putIfAbsent(key.toString(), entry) != null) {
                    problem(child(path, key.toString()), "duplicate key; each key may appear only once");
                }
            } else {
                problem(path, "key " + describe(key) + " is not a string; put it in quotes"
                        + " (YAML reads unquoted yes, no, on, off, true and false as booleans)");
            }
        });
        return Optional.of(result);
    }

    /**
     * A missing value (a key with every entry commented out) reads as an empty list.
     *
     * @param expected what the list holds, for the sentence, e.g. "a list of user names"
     * @param hint appended when a single scalar was written instead of a list, e.g. "; write [app]"
     */
    Optional<List<Object>> list(String path, Object value, String expected, String hint) {
        if (value == null) {
            return Optional.of(List.of());
        }
        if (value instanceof List<?> raw) {
            return Optional.of(new ArrayList<>(raw));
        }
        wrongType(path, value, expected, hint);
        return Optional.empty();
    }

    void rejectUnknownKeys(String path, Map<String, Object> map, Collection<String> known) {
        rejectUnknownKeys(path, map, known, Map.of());
    }

    /** @param moved keys that used to be valid here, mapped to where they live now */
    void rejectUnknownKeys(String path, Map<String, Object> map, Collection<String> known, Map<String, String> moved) {
        for (String key : map.keySet()) {
            if (known.contains(key)) {
                continue;
            }
            // A key that worked in an older file deserves its new home, not a guess at a similar spelling.
            String hint = moved.containsKey(key)
                    ? "it moved to '" + moved.get(key) + "'"
                    : KeySuggestions.closest(key, known)
                            .map(suggestion -> "did you mean '" + suggestion + "'?")
                            .orElse("expected one of " + String.join(", ", known));
            problem(child(path, key), "unknown key; " + hint);
        }
    }

    /** The value under {@code key}, the fallback when the key is absent, or the fallback after a recorded problem. */
    <T> T read(String path, Map<String, Object> map, String key, T fallback,
               BiFunction<String, Object, Optional<T>> reading) {
        if (!map.containsKey(key)) {
            return fallback;
        }
        return reading.apply(child(path, key), map.get(key)).orElse(fallback);
    }

    /** Any string, including the empty one. */
    Optional<String> string(String path, Object value) {
        if (value instanceof String text) {
            return substitute(path, text);
        }
        wrongType(path, value, "a string", "; put it in quotes");
        return Optional.empty();
    }

    /** A string that must contain something, such as a host name. */
    Optional<String> nonEmptyString(String path, Object value) {
        Optional<String> text = string(path, value);
        if (text.isPresent() && text.get().isBlank()) {
            problem(path, "must not be empty");
            return Optional.empty();
        }
        return text;
    }

    /** Like {@link #nonEmptyString} but no problem ever quotes the value. */
    Optional<String> secret(String path, Object value) {
        if (!(value instanceof String text)) {
            problem(path, value == null
                    ? "has no value; expected a string"
                    : "expected a string but found " + kind(value) + "; put it in quotes");
            return Optional.empty();
        }
        Optional<String> expanded = substitute(path, text);
        if (expanded.isPresent() && expanded.get().isEmpty()) {
            problem(path, "must not be empty");
            return Optional.empty();
        }
        return expanded;
    }

    Optional<Integer> integer(String path, Object value, int min, int max) {
        BigInteger number;
        if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
            number = new BigInteger(value.toString());
        } else if (value instanceof String text) {
            Optional<String> expanded = substitute(path, text);
            if (expanded.isEmpty()) {
                return Optional.empty();
            }
            if (!INTEGER.matcher(expanded.get()).matches()) {
                problem(path, describe(expanded.get()) + " is not an integer");
                return Optional.empty();
            }
            number = new BigInteger(expanded.get());
        } else {
            wrongType(path, value, "an integer", "");
            return Optional.empty();
        }
        boolean tooSmall = number.compareTo(BigInteger.valueOf(min)) < 0;
        boolean tooLarge = number.compareTo(BigInteger.valueOf(max)) > 0;
        if (!tooSmall && !tooLarge) {
            return Optional.of(number.intValueExact());
        }
        // Sizes have no practical upper limit, so "between 1 and 2147483647" would only distract.
        problem(path, tooSmall && max == Integer.MAX_VALUE
                ? number + " is too small; must be at least " + min
                : number + " is out of range; must be between " + min + " and " + max);
        return Optional.empty();
    }

    /** true or false; a string (as from ${VAR}) may spell either, since environment variables have no booleans. */
    Optional<Boolean> bool(String path, Object value) {
        if (value instanceof Boolean b) {
            return Optional.of(b);
        }
        if (value instanceof String text) {
            Optional<String> expanded = substitute(path, text);
            if (expanded.isEmpty()) {
                return Optional.empty();
            }
            if (expanded.get().equals("true") || expanded.get().equals("false")) {
                return Optional.of(Boolean.parseBoolean(expanded.get()));
            }
            problem(path, describe(expanded.get()) + " is not true or false");
            return Optional.empty();
        }
        wrongType(path, value, "true or false", "");
        return Optional.empty();
    }

    /** Timeouts: a zero timeout would fail every wait at once, so only positive durations are accepted. */
    Optional<Duration> positiveDuration(String path, Object value) {
        return positiveDuration(path, value, "the timeout");
    }

    /** @param what names the setting in the sentence: "{what} must be greater than zero" */
    Optional<Duration> positiveDuration(String path, Object value, String what) {
        return duration(path, value, what + " must be greater than zero");
    }

    /** For settings where zero switches the feature off; a bare 0 needs no unit since it means the same in all. */
    Optional<Duration> durationOrZero(String path, Object value) {
        return duration(path, value, null);
    }

    /** @param zeroRule why zero is refused, or null when zero is allowed */
    private Optional<Duration> duration(String path, Object value, String zeroRule) {
        if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
            if (zeroRule == null && new BigInteger(value.toString()).signum() == 0) {
                return Optional.of(Duration.ZERO);
            }
            problem(path, value + " has no unit; " + Durations.ALLOWED);
            return Optional.empty();
        }
        if (!(value instanceof String text)) {
            wrongType(path, value, "a duration", "; " + Durations.ALLOWED);
            return Optional.empty();
        }
        Optional<String> expanded = substitute(path, text);
        if (expanded.isEmpty()) {
            return Optional.empty();
        }
        Duration duration;
        try {
            duration = Durations.parse(expanded.get());
        } catch (IllegalArgumentException e) {
            problem(path, e.getMessage());
            return Optional.empty();
        }
        if (duration.isZero() && zeroRule != null) {
            problem(path, describe(expanded.get()) + " is not allowed; " + zeroRule);
            return Optional.empty();
        }
        return Optional.of(duration);
    }

    /** One of a fixed set of spellings, e.g. {@code session | transaction}. */
    <E> Optional<E> choice(String path, Object value, Map<String, E> options) {
        String allowed = "one of " + String.join(", ", options.keySet());
        if (!(value instanceof String text)) {
            wrongType(path, value, allowed, "");
            return Optional.empty();
        }
        Optional<String> expanded = substitute(path, text);
        if (expanded.isEmpty()) {
            return Optional.empty();
        }
        E option = options.get(expanded.get());
        if (option == null) {
            problem(path, describe(expanded.get()) + " is not " + allowed);
        }
        return Optional.ofNullable(option);
    }

    private Optional<String> substitute(String path, String text) {
        EnvSubstitution.Result result = env.apply(text);
        result.problems().forEach(problem -> problem(path, problem));
        return result.ok() ? Optional.of(result.value()) : Optional.empty();
    }

    private void wrongType(String path, Object value, String expected, String hint) {
        if (value == null) {
            problem(path, "has no value; expected " + expected);
        } else if (value instanceof Map || value instanceof List) {
            problem(path, "expected " + expected + " but found " + kind(value));
        } else {
            problem(path, describe(value) + " is not " + expected + hint);
        }
    }

    private static String describe(Object value) {
        if (value instanceof String text) {
            return "'" + text + "'";
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        return kind(value);
    }

    private static String kind(Object value) {
        if (value instanceof String) {
            return "a string";
        }
        if (value instanceof Map) {
            return "a mapping";
        }
        if (value instanceof List) {
            return "a list";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
            return "an integer";
        }
        if (value instanceof Number) {
            return "a decimal number";
        }
        if (value instanceof java.util.Date) {
            return "a date";
        }
        if (value instanceof byte[]) {
            return "binary data";
        }
        return "a " + value.getClass().getSimpleName();
    }
}
