package io.pgwarden.session;

import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.Tags;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Makes every backend that serves a client carry the client's settings, and learns what the client changes. */
final class SettingsSync {

    private final SessionSettings settings = new SessionSettings();
    private PoolClients poolClients;
    /** The pool's interning of settings sets, kept so that no function object is built per transaction. */
    private UnaryOperator<Map<String, String>> intern;

    void start(Map<String, String> startupParameters, Map<String, String> serverParameters, PoolClients clients) {
        poolClients = clients;
        intern = clients::canonicalSettings;
        settings.fromStartup(startupParameters, serverParameters);
    }

    /** The SQL that makes {@code b} carry this client's settings, or null when it already does. */
    String sqlFor(BackendConnection b) {
        Object stamp = settings.canonical(intern);
        if (b.settingsStamp() == stamp) {
            return null;
        }
        String sql = settings.applyTo(b.settings());
        b.setSettingsStamp(stamp);
        return sql;
    }

    /** Before any of the client's own requests on a new link. */
    void applyOn(BackendLink link) {
        String sql = sqlFor(link.backend());
        if (sql != null) {
            link.sendSettings(sql, null);
        }
    }

    /** The client's current settings, read from the server, become what it carries to its next backend. */
    void readBackOn(BackendLink link) {
        BackendConnection b = link.backend();
        link.sendSettings(SessionSettings.readQuery(), message -> {
            if (Frames.tag(message) == Tags.Backend.DATA_ROW) {
                settings.fromServer(ResultMessages.dataRowValues(message));
                b.forgetSettings();
                b.settings().putAll(settings.wanted());
            }
        });
    }

    /**
     * A login served without a backend reports the client's own startup values over the server's defaults,
     * spelled as earlier logins saw the server spell them; its first backend reports them again anyway.
     */
    Map<String, String> reportedWithoutBackend(Map<String, String> serverParameters) {
        Map<String, String> reported = new LinkedHashMap<>(serverParameters);
        settings.wanted().forEach((name, value) -> {
            if (reported.containsKey(name)) {
                reported.put(name, poolClients.spellingOf(name, value));
            }
        });
        return reported;
    }

    /** A login that applied the settings on a backend learns how the server spells them. */
    void learnSpellings(Map<String, String> reported) {
        settings.wanted().forEach((name, value) -> {
            if (reported.containsKey(name)) {
                poolClients.rememberSpelling(name, value, reported.get(name));
            }
        });
    }
}
