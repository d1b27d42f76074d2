package io.pgwarden.session;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Recognises {@code DROP DATABASE [IF EXISTS] name} at the start of a statement, to free the way for it. */
final class DropDatabase {

    private static final Pattern DROP = Pattern.compile(
            "^\\s*drop\\s+database\\s+(?:if\\s+exists\\s+)?(\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*)",
            Pattern.CASE_INSENSITIVE);

    private DropDatabase() {
    }

    static String target(io.netty.buffer.ByteBuf message, byte tag) {
        byte[] text = SessionPinning.head(message, tag);
        return SessionPinning.startsWithIgnoringCase(text, 0, "drop") ? target(text) : null;
    }

    /** The database a statement drops, as PostgreSQL would fold the name; null for any other statement. */
    static String target(byte[] statementStart) {
        Matcher m = DROP.matcher(new String(statementStart, StandardCharsets.UTF_8));
        if (!m.find()) {
            return null;
        }
        String name = m.group(1);
        if (name.startsWith("\"")) {
            return name.substring(1, name.length() - 1).replace("\"\"", "\"");
        }
        return name.toLowerCase(Locale.ROOT);
    }
}
