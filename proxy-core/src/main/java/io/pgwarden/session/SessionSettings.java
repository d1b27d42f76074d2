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

    /**
     * Startup parameters of the client, for the names tracked (matched case-insensitively, as PostgreSQL does).
     * A value equal to what backends report at login is already in place and needs no SET.
     */
    void fromStartup(Map<String, String> startupParameters, Map<String, String> loginValues) {
        startupParameters.forEach((name, value) -> {
            String tracked = trackedName(name);
            if (tracked != null && (loginValues == null || !value.equals(loginValues.get(tracked)))) {
                wanted.put(tracked, value);
            }
        });
    }

    /** The values read back by {@link #readQuery()}, in {@link #TRACKED} order. */
    void fromServer(List<String> values) {
        for (int i = 0; i < TRACKED.size() && i < values.size(); i++) {
            wanted.put(TRACKED.get(i), values.get(i));
        }
    }

    Map<String, String> wanted() {
        return wanted;
    }

    /**
     * The statement that makes a backend carrying {@code backendSettings} match this client, or null when it
     * already does. {@code backendSettings} is updated to what it will be once the statement has run.
     */
    String applyTo(Map<String, String> backendSettings) {
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
