package io.pgwarden.log;

/**
 * How a value that a client or a server chose reaches a {@code key=value} log line. A user name, database,
 * application_name, SASL mechanism or error text can hold a newline that would otherwise start a forged line, or
 * a quote or space that would end the value early; so such values are always written in double quotes, with
 * backslash, quote and control characters escaped, and one value can never look like more than one.
 */
public final class LogValues {

    private LogValues() {
    }

    /** {@code value} in double quotes, escaped; null is the empty string. */
    public static String quote(Object value) {
        String s = value == null ? "" : value.toString();
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (isControl(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /**
     * C0 and C1 controls, DEL, and the line and paragraph separators some log viewers break lines at; the bidi
     * overrides and isolates, which can make a line read differently from what it holds.
     */
    private static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
                || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
    }
}
