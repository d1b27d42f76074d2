package io.pgwarden.session;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The session settings a client expects, carried from backend to backend in transaction mode: those it sent
 * at startup, then whatever it changed later, read back from the server after the transaction (every setting
 * whose source is the session, so no list of names is kept). Values are as PostgreSQL spells them; a missing
 * name means the backend's login value, which is the same on every backend of a pool.
 */
final class SessionSettings {

    /**
     * Every setting changed at session level, and nothing else: pgwarden's own login values have source
     * {@code client}, the database's and role's defaults their own, and SET, set_config and the settings pgwarden
     * applies {@code session}. The transaction characteristics show as session settings once SET TRANSACTION
     * ran, yet end with the transaction.
     */
    private static final String READ_QUERY = "SELECT name, pg_catalog.current_setting(name) FROM pg_catalog.pg_settings"
            + " WHERE source = 'session' AND name NOT IN ('transaction_isolation', 'transaction_read_only',"
            + " 'transaction_deferrable')";

    /**
     * Which of a VALUES list {@code v (name, setting)} joined to pg_settings {@code s} can be SET now: PostgreSQL
     * accepts some only at connection start, some only from superusers, and refuses unknown names that are not
     * custom ones. Skipping them is what lets the others apply.
     */
    private static final String SETTABLE = "s.context = 'user' OR s.context = 'superuser'"
            + " AND pg_catalog.current_setting('is_superuser') = 'on'";

    private final Map<String, String> wanted = new HashMap<>();
    /** What the client wants came from the server (a read-back), so each value is one the server accepted. */
    private boolean verified = true;
    /** What the client's startup packet asked for beyond the login values: RESET and RESET ALL return to it. */
    private Map<String, String> startup = Map.of();
    /**
     * Custom settings ({@code myapp.x}) the client set since they were last read: pg_settings does not list
     * such placeholders, so they are read by name. Null until the first.
     */
    private Set<String> customNames;
    /** The pool's shared copy of {@link #wanted}, looked up when first needed after each change. */
    private Map<String, String> canonical;

    /** Startup packet fields that are not settings. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("user", "database", "options",
            "replication");

    /**
     * Every setting the client's startup packet carries, as PostgreSQL would apply them: plain parameters and
     * the {@code -c name=value} / {@code --name=value} pairs of {@code options}. Names and encodings are spelled
     * as PostgreSQL reports them. A value equal to what backends report at login is already in place.
     */
    void fromStartup(Map<String, String> startupParameters, Map<String, String> loginValues) {
        canonical = null;
        Map<String, String> all = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> pair : startupPairs(startupParameters)) {
            all.put(pair.getKey(), pair.getValue());
        }
        all.forEach((name, value) -> {
            String key = canonicalName(name);
            String v = canonicalValue(key, value);
            if (loginValues == null || !v.equals(loginValues.get(key))) {
                wanted.put(key, v);
            }
        });
        startup = Map.copyOf(wanted);
        verified = wanted.isEmpty();
    }

    /**
     * The settings of a startup packet in the order PostgreSQL applies them: those of {@code options} first, then
     * the plain parameters (so a parameter overrides an option of the same name). Names as the client wrote them.
     */
    static List<Map.Entry<String, String>> startupPairs(Map<String, String> startupParameters) {
        List<Map.Entry<String, String>> pairs = new java.util.ArrayList<>();
        String options = startupParameters.get("options");
        if (options != null) {
            pairs.addAll(parseOptions(options).entrySet());
        }
        startupParameters.forEach((name, value) -> {
            if (!NOT_SETTINGS.contains(name) && !name.startsWith("_pq_.")) {
                pairs.add(Map.entry(name, value));
            }
        });
        return pairs;
    }

    /** A value as PostgreSQL reports it back where pgwarden knows its spellings (encoding names). */
    static String canonicalValue(String canonicalName, String value) {
        return canonicalName.equals("client_encoding") ? EncodingNames.canonical(value) : value;
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

    /**
     * The client's settings as read back ({@link #readQuery()}), which replace what it had. Values a backend
     * has at login anyway ({@code loginValues}, its ParameterStatus set) are left out, so clients that asked for
     * them and clients that did not carry the same set, and no statement is spent switching a backend between
     * the two.
     */
    void fromServer(Map<String, String> read, Map<String, String> loginValues, Set<String> askedByName) {
        canonical = null;
        verified = true;
        if (customNames != null && askedByName != null) {
            // Names the client set while the read-back was on its way are read the next time.
            customNames.removeAll(askedByName);
        }
        wanted.clear();
        read.forEach((name, value) -> {
            if (!value.equals(loginValues.get(name))) {
                wanted.put(name, value);
            }
        });
    }

    /** Whether every value wanted is one the server accepted; until then applying them skips what it would not. */
    boolean verified() {
        return verified;
    }

    /** The client set custom settings with these names. */
    void noteCustom(java.util.List<String> names) {
        if (customNames == null) {
            customNames = new java.util.TreeSet<>();
        }
        customNames.addAll(names);
    }

    /** Clients with the same startup settings share one copy of them ({@code intern}, the pool's): heap per client. */
    void shareStartup(java.util.function.UnaryOperator<Map<String, String>> intern) {
        if (!startup.isEmpty()) {
            startup = intern.apply(startup);
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
     *
     * @param unknown what the backend carries is not known (a statement that set it failed): start from RESET ALL
     */
    String applyTo(Map<String, String> backendSettings, boolean unknown) {
        if (!unknown && wanted.equals(backendSettings)) {
            // The common case on every transaction: nothing to do, and nothing allocated to find that out.
            return null;
        }
        if (unknown) {
            backendSettings.clear();
        }
        Set<String> names = new LinkedHashSet<>(wanted.keySet());
        names.addAll(backendSettings.keySet());
        StringBuilder resets = new StringBuilder(unknown ? "RESET ALL; " : "");
        StringBuilder sets = new StringBuilder();
        StringBuilder unverified = null;
        for (String name : names) {
            String want = wanted.get(name);
            if (Objects.equals(want, backendSettings.get(name))) {
                continue;
            }
            if (want == null) {
                resets.append("RESET ").append(quoteIdentifier(name)).append("; ");
                backendSettings.remove(name);
            } else if (!verified) {
                unverified = unverified == null ? new StringBuilder() : unverified.append(", ");
                unverified.append('(').append(quoteLiteral(name)).append(", ").append(quoteLiteral(want)).append(')');
                backendSettings.put(name, want);
            } else {
                // set_config parses list settings such as search_path as SET ... TO would. Qualified: the
                // search_path in force may be the previous client's.
                sets.append(sets.length() == 0 ? "SELECT " : ", ")
                        .append("pg_catalog.set_config(").append(quoteLiteral(name)).append(", ")
                        .append(quoteLiteral(want)).append(", false)");
                backendSettings.put(name, want);
            }
        }
        if (unverified != null) {
            // Startup values the server has not yet shown it accepts: those it would refuse are left out.
            sets.append("SELECT pg_catalog.set_config(v.name, v.setting, false) FROM (VALUES ").append(unverified)
                    .append(") v (name, setting) LEFT JOIN pg_catalog.pg_settings s ON s.name = v.name WHERE ")
                    .append(SETTABLE).append(" OR s.name IS NULL AND v.name LIKE '%.%'");
        }
        if (resets.length() == 0 && sets.length() == 0) {
            return null;
        }
        return resets.append(sets).toString().trim();
    }

    /** The custom settings {@link #readQuery()} asks for by name beyond those the client has; null when none. */
    Set<String> customNamesAsked() {
        return customNames == null ? null : Set.copyOf(customNames);
    }

    /**
     * A query whose rows are the name and value of every setting the client changed at session level; custom
     * ones it has or set, by name, as a null value where the name was never defined. When the client has startup
     * settings, a statement ahead of it first sets back those a RESET returned to the backend's login value, as
     * PostgreSQL returns them to the startup value: in the same query, so before any statement the client sent
     * meanwhile.
     */
    String readQuery() {
        StringBuilder sql = restoreStartup();
        for (String name : wanted.keySet()) {
            sql = custom(sql, name);
        }
        if (customNames != null) {
            for (String name : customNames) {
                if (!wanted.containsKey(name)) {
                    sql = custom(sql, name);
                }
            }
        }
        return sql == null ? READ_QUERY : sql.toString();
    }

    private StringBuilder restoreStartup() {
        StringBuilder values = null;
        for (Map.Entry<String, String> e : startup.entrySet()) {
            if (e.getKey().indexOf('.') < 0) {
                values = values == null ? new StringBuilder() : values.append(", ");
                values.append('(').append(quoteLiteral(e.getKey())).append(", ").append(quoteLiteral(e.getValue()))
                        .append(')');
            }
        }
        if (values == null) {
            return null;
        }
        // Its rows are read as settings too: what it set back is the client's.
        return new StringBuilder("SELECT s.name, pg_catalog.set_config(s.name, v.setting, false) FROM (VALUES ")
                .append(values).append(") v (name, setting) JOIN pg_catalog.pg_settings s ON s.name = v.name"
                        + " WHERE s.source <> 'session' AND (" + SETTABLE + "); ").append(READ_QUERY);
    }

    private static StringBuilder custom(StringBuilder sql, String name) {
        if (name.indexOf('.') < 0) {
            return sql;
        }
        StringBuilder out = sql != null ? sql : new StringBuilder(READ_QUERY);
        String literal = quoteLiteral(name);
        return out.append(" UNION ALL SELECT ").append(literal).append(", pg_catalog.current_setting(").append(literal)
                .append(", true)");
    }

    /** Setting names are case-insensitive; PostgreSQL spells all but three in lower case. */
    static String canonicalName(String name) {
        for (String mixed : MIXED_CASE) {
            if (mixed.equalsIgnoreCase(name)) {
                return mixed;
            }
        }
        return name.toLowerCase(java.util.Locale.ROOT);
    }

    private static final List<String> MIXED_CASE = List.of("DateStyle", "IntervalStyle", "TimeZone");

    /** Read the same whatever standard_conforming_strings the backend has now: E'' where a backslash needs it. */
    static String quoteLiteral(String value) {
        String quoted = "'" + value.replace("'", "''") + "'";
        return value.indexOf('\\') < 0 ? quoted : "E" + quoted.replace("\\", "\\\\");
    }

    private static String quoteIdentifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
