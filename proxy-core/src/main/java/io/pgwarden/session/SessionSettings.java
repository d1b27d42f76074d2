package io.pgwarden.session;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The session settings a client expects, carried from backend to backend in transaction mode: those it sent
 * at startup, then whatever it SET later (read back from the server after the transaction, so no SQL is parsed).
 * Values are as PostgreSQL spells them; a missing name means the server default.
 */
final class SessionSettings {

    /** Settings drivers rely on; others stay where the client set them. */
    static final List<String> TRACKED = List.of("application_name", "TimeZone", "DateStyle", "IntervalStyle",
            "search_path", "statement_timeout", "lock_timeout", "client_encoding", "extra_float_digits");

    private final Map<String, String> wanted = new HashMap<>();
    /** The pool's shared copy of {@link #wanted}, looked up when first needed after each change. */
    private Map<String, String> canonical;

    /** Startup packet fields that are not settings. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("user", "database", "options",
            "replication");

    /**
     * Every setting the client's startup packet carries, as PostgreSQL would apply them: plain parameters and
     * the {@code -c name=value} / {@code --name=value} pairs of {@code options}. Tracked names are spelled as
     * PostgreSQL reports them. A value equal to what backends report at login is already in place.
     */
    void fromStartup(Map<String, String> startupParameters, Map<String, String> loginValues) {
        canonical = null;
        Map<String, String> all = new java.util.LinkedHashMap<>();
        startupParameters.forEach((name, value) -> {
            if (!NOT_SETTINGS.contains(name) && !name.startsWith("_pq_.")) {
                all.put(name, value);
            }
        });
        String options = startupParameters.get("options");
        if (options != null) {
            all.putAll(parseOptions(options));
        }
        all.forEach((name, value) -> {
            String tracked = trackedName(name);
            String key = tracked != null ? tracked : name;
            if (loginValues == null || !value.equals(loginValues.get(key))) {
                wanted.put(key, value);
            }
        });
    }

    /** The {@code -c name=value} and {@code --name=value} pairs of a startup {@code options} string. */
    static Map<String, String> parseOptions(String options) {
        List<String> words = new java.util.ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (c == '\\' && i + 1 < options.length()) {
                word.append(options.charAt(++i));
            } else if (Character.isWhitespace(c)) {
                if (word.length() > 0) {
                    words.add(word.toString());
                    word.setLength(0);
                }
            } else {
                word.append(c);
            }
        }
        if (word.length() > 0) {
            words.add(word.toString());
        }
        Map<String, String> pairs = new java.util.LinkedHashMap<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String pair = null;
            if (w.equals("-c") && i + 1 < words.size()) {
                pair = words.get(++i);
            } else if (w.startsWith("-c")) {
                pair = w.substring(2);
            } else if (w.startsWith("--")) {
                pair = w.substring(2);
            }
            int eq = pair == null ? -1 : pair.indexOf('=');
            if (eq > 0) {
                pairs.put(pair.substring(0, eq).replace('-', '_'), pair.substring(eq + 1));
            }
        }
        return pairs;
    }

    /** The values read back by {@link #readQuery()}, in {@link #TRACKED} order. */
    void fromServer(List<String> values) {
        canonical = null;
        for (int i = 0; i < TRACKED.size() && i < values.size(); i++) {
            wanted.put(TRACKED.get(i), values.get(i));
        }
    }

    Map<String, String> wanted() {
        return wanted;
    }

    /**
     * One shared immutable copy per distinct set of settings (from {@code intern}, the pool's), so that a client
     * and a backend carrying the same set can tell by identity instead of comparing maps on every transaction.
     */
    Map<String, String> canonical(java.util.function.UnaryOperator<Map<String, String>> intern) {
        if (canonical == null) {
            canonical = intern.apply(wanted);
        }
        return canonical;
    }

    /**
     * The statement that makes a backend carrying {@code backendSettings} match this client, or null when it
     * already does. {@code backendSettings} is updated to what it will be once the statement has run.
     */
    String applyTo(Map<String, String> backendSettings) {
        if (wanted.equals(backendSettings)) {
            // The common case on every transaction: nothing to do, and nothing allocated to find that out.
            return null;
        }
        Set<String> names = new LinkedHashSet<>(wanted.keySet());
        names.addAll(backendSettings.keySet());
        StringBuilder resets = new StringBuilder();
        StringBuilder sets = new StringBuilder();
        for (String name : names) {
            String want = wanted.get(name);
            if (Objects.equals(want, backendSettings.get(name))) {
                continue;
            }
            if (want == null) {
                resets.append("RESET ").append(quoteIdentifier(name)).append("; ");
                backendSettings.remove(name);
            } else {
                // set_config parses list settings such as search_path as SET ... TO would.
                sets.append(sets.length() == 0 ? "SELECT " : ", ")
                        .append("set_config(").append(quoteLiteral(name)).append(", ")
                        .append(quoteLiteral(want)).append(", false)");
                backendSettings.put(name, want);
            }
        }
        if (resets.length() == 0 && sets.length() == 0) {
            return null;
        }
        return resets.append(sets).toString().trim();
    }

    /** A query whose single row holds the current value of every tracked setting. */
    static String readQuery() {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < TRACKED.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("current_setting(").append(quoteLiteral(TRACKED.get(i))).append(")");
        }
        return sql.toString();
    }

    private static String trackedName(String name) {
        for (String tracked : TRACKED) {
            if (tracked.equalsIgnoreCase(name)) {
                return tracked;
            }
        }
        return null;
    }

    private static String quoteLiteral(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static String quoteIdentifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
