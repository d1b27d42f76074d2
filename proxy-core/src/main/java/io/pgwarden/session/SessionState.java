package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.ExtendedQueryMessages;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Session mode: what pgwarden needs to rebuild a session on a fresh backend after its backend was lost while
 * the client sat idle: the named prepared statements it created, and whether it used anything that cannot
 * be rebuilt. The rule is conservative and text-based: a query that mentions one of {@link #UNRESTORABLE}
 * marks the session unrestorable until DISCARD ALL, so a lost backend then closes the client with a clear
 * error instead of silently dropping its temporary tables, locks, listeners or cursors.
 */
final class SessionState {

    /** Session state PostgreSQL keeps that pgwarden cannot re-create (matched case-insensitively in SQL text). */
    static final List<String> UNRESTORABLE = List.of("temp table", "temporary", "into temp", "pg_temp", "listen",
            "advisory_lock", "with hold", "prepare ",
            "set role", "session authorization", "lo_open");

    private final Map<String, byte[]> statements = new LinkedHashMap<>();
    private String unrestorableBecause;

    /** Call for every message relayed to the backend in session mode. */
    void onClientMessage(ByteBuf message, byte tag) {
        if (tag == Tags.Frontend.QUERY) {
            scan(message, Frames.HEADER_LENGTH);
        } else if (tag == Tags.Frontend.PARSE) {
            byte[] body = ExtendedQueryMessages.parseBody(message);
            scanText(ExtendedQueryMessages.queryOf(body));
            if (!ExtendedQueryMessages.firstNameIsEmpty(message)) {
                statements.put(ExtendedQueryMessages.parseStatementName(message), body);
            }
        } else if (tag == Tags.Frontend.CLOSE
                && ExtendedQueryMessages.targetKind(message) == ExtendedQueryMessages.STATEMENT) {
            statements.remove(ExtendedQueryMessages.targetName(message));
        }
    }

    /** DISCARD ALL: the server forgot everything, so there is nothing left to restore or to lose. */
    void onDiscardAll() {
        statements.clear();
        unrestorableBecause = null;
    }

    void onDeallocateAll() {
        statements.clear();
    }

    Map<String, byte[]> statements() {
        return statements;
    }

    /** Null when the session can be rebuilt; otherwise what it used that cannot be. */
    String unrestorableBecause() {
        return unrestorableBecause;
    }

    private void scan(ByteBuf message, int offset) {
        if (unrestorableBecause != null) {
            return;
        }
        int start = message.readerIndex() + offset;
        scanText(message.toString(start, message.writerIndex() - start, StandardCharsets.UTF_8));
    }

    private void scanText(String sql) {
        if (unrestorableBecause != null) {
            return;
        }
        String lower = sql.toLowerCase(Locale.ROOT);
        for (String keyword : UNRESTORABLE) {
            if (lower.contains(keyword)) {
                unrestorableBecause = "the session used " + keyword.toUpperCase(Locale.ROOT);
                return;
            }
        }
    }
}
