package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.Tags;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
        settings.shareStartup(intern);
    }

    /** The SQL that makes {@code b} carry this client's settings, or null when it already does. */
    String sqlFor(BackendConnection b) {
        Object stamp = settings.canonical(intern);
        if (b.settingsStamp() == stamp) {
            return null;
        }
        String sql = settings.applyTo(b.settings(), b.settingsUnknown());
        if (settings.verified()) {
            b.forgetSettings();
            b.settings().putAll(settings.wanted());
        } else {
            // Some may have been skipped: the next client's settings start from RESET ALL.
            b.loseSettings();
        }
        b.setSettingsStamp(stamp);
        return sql;
    }

    /**
     * Before any of the client's own requests on a new link. Settings the server has not yet shown it accepts
     * (startup values) are read back in the same query, so the client carries only what the server took.
     */
    void applyOn(BackendLink link) {
        boolean verifying = !settings.verified();
        String sql = sqlFor(link.backend());
        if (sql == null) {
            return;
        }
        if (verifying) {
            sendReading(link, sql + "; " + settings.readQuery());
        } else {
            link.hidden().settings(sql, null);
        }
    }

    /** The client's statements set these custom settings, which are read back by name. */
    void noteCustom(java.util.List<String> names) {
        settings.noteCustom(names);
    }

    /** The client's current settings, read from the server, become what it carries to its next backend. */
    void readBackOn(BackendLink link) {
        sendReading(link, settings.readQuery());
    }

    /**
     * Sends {@code sql}, which ends with {@link SessionSettings#readQuery()}; its rows become the client's
     * settings and what the backend is known to carry.
     */
    private void sendReading(BackendLink link, String sql) {
        BackendConnection b = link.backend();
        Map<String, String> read = new HashMap<>();
        boolean[] failed = new boolean[1];
        java.util.Set<String> asked = settings.customNamesAsked();
        link.hidden().settings(sql, message -> {
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.DATA_ROW) {
                readRows(message, read);
            } else if (tag == Tags.Backend.ERROR_RESPONSE) {
                failed[0] = true;
            } else if (tag == Tags.Backend.READY_FOR_QUERY && !failed[0] && b == link.backend()) {
                settings.fromServer(read, b.parameters(), asked);
                read.entrySet().removeIf(e -> e.getValue().equals(b.parameters().get(e.getKey())));
                b.forgetSettings();
                b.settings().putAll(read);
                // Custom settings read by name may differ from what the client wants: set them right at once.
                applyOn(link);
                link.flushBackend();
            }
        });
    }

    /** Each name and value of a run of DataRows (the backend's decoder passes consecutive rows as one buffer). */
    private static void readRows(ByteBuf run, Map<String, String> into) {
        int at = run.readerIndex();
        while (run.writerIndex() - at >= Frames.HEADER_LENGTH) {
            int end = at + 1 + run.getInt(at + 1);
            List<String> row = ResultMessages.dataRowValues(run.slice(at, end - at));
            if (row.size() == 2 && row.get(0) != null && row.get(1) != null) {
                into.put(SessionSettings.canonicalName(row.get(0)), row.get(1));
            }
            at = end;
        }
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
