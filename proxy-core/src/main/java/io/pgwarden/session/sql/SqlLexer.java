package io.pgwarden.session.sql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The byte-level half of {@link StatementScanner}: where comments, literals and words end in SQL text, as
 * PostgreSQL's lexer (scan.l) sees them. Reads the text through a window it copies in bulk, one read per
 * window: reading a ByteBuf byte by byte would cost a leak-detector record per byte in the tests.
 */
final class SqlLexer {

    private static final int WINDOW = 4096;
    /** Dollar-quote tags up to this long are compared from a copy; longer ones re-read the text. */
    private static final int MAX_TAG = 64;

    private final byte[] window = new byte[WINDOW];
    private final byte[] tag = new byte[MAX_TAG];
    private ByteBuf text = Unpooled.EMPTY_BUFFER;
    private int end;
    private int windowStart;
    private int windowEnd;

    /** The last literal or quoted identifier scanned held doubled quotes or backslash escapes. */
    boolean escaped;
    /** A {@code '…'} literal held a backslash since {@link #reset}. */
    boolean sawBackslashInString;

    void reset(ByteBuf text, int from, int to) {
        this.text = text;
        end = to;
        windowStart = from;
        windowEnd = from;
        sawBackslashInString = false;
    }

    int end() {
        return end;
    }

    /** The byte at {@code i} (0..255), or -1 past the end. */
    int at(int i) {
        if (i >= end) {
            return -1;
        }
        if (i < windowStart || i >= windowEnd) {
            int length = Math.min(WINDOW, end - i);
            text.getBytes(i, window, 0, length);
            windowStart = i;
            windowEnd = i + length;
        }
        return window[i - windowStart] & 0xFF;
    }

    /** Where the next token (or {@code ;}) starts at or after {@code pos}; the end if none. */
    int skipSpaceAndComments(int pos) {
        while (pos < end) {
            int c = at(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B) {
                pos++;
            } else if (c == '-' && at(pos + 1) == '-') {
                while (pos < end && at(pos) != '\n' && at(pos) != '\r') {
                    pos++;
                }
            } else if (c == '/' && at(pos + 1) == '*') {
                pos = blockCommentEnd(pos);
            } else {
                return pos;
            }
        }
        return end;
    }

    private int blockCommentEnd(int pos) {
        int depth = 0;
        do {
            if (at(pos) == '/' && at(pos + 1) == '*') {
                depth++;
                pos += 2;
            } else if (at(pos) == '*' && at(pos + 1) == '/') {
                depth--;
                pos += 2;
            } else {
                pos++;
            }
        } while (depth > 0 && pos < end);
        return Math.min(pos, end);
    }

    int wordEnd(int pos) {
        while (isIdentifierPart(at(pos))) {
            pos++;
        }
        return pos;
    }

    int numberEnd(int pos) {
        while (isIdentifierPart(at(pos)) || at(pos) == '.') {
            pos++;
        }
        return pos;
    }

    /**
     * The closing quote of the literal or quoted identifier that opens at {@code open} (the end when it is not
     * closed), with {@code quote} doubled inside as the escape of itself.
     *
     * @param plain a {@code '…'} whose reading depends on standard_conforming_strings
     */
    int quotedEnd(int open, int quote, boolean backslashEscapes, boolean plain) {
        escaped = false;
        int i = open + 1;
        while (i < end) {
            int c = at(i);
            if (c == quote) {
                if (at(i + 1) != quote) {
                    return i;
                }
                escaped = true;
                i += 2;
            } else if (c == '\\' && backslashEscapes) {
                escaped = true;
                i += 2;
            } else {
                sawBackslashInString |= c == '\\' && plain;
                i++;
            }
        }
        return end;
    }

    /** After the {@code $} at {@code pos}: the {@code $} that closes an opening {@code $tag$}, or -1. */
    int dollarTagEnd(int pos) {
        int i = pos + 1;
        if (isIdentifierStart(at(i))) {
            while (isIdentifierPart(at(i)) && at(i) != '$') {
                i++;
            }
        }
        return at(i) == '$' ? i : -1;
    }

    /** Where the body starting at {@code body} ends: at the first {@code $tag$}, even inside a word, as in scan.l. */
    int dollarBodyEnd(int body, int tagStart, int tagLength) {
        for (int k = 0; k < tagLength && k < MAX_TAG; k++) {
            tag[k] = (byte) at(tagStart + k);
        }
        for (int j = body; j < end; j++) {
            if (at(j) == '$' && closesTag(j + 1, tagStart, tagLength)) {
                return j;
            }
        }
        return end;
    }

    private boolean closesTag(int from, int tagStart, int tagLength) {
        for (int k = 0; k < tagLength; k++) {
            int expected = k < MAX_TAG ? tag[k] & 0xFF : at(tagStart + k);
            if (at(from + k) != expected) {
                return false;
            }
        }
        return at(from + tagLength) == '$';
    }

    /** Bytes from {@code from} spell {@code lowerCase}: exactly, or with ASCII letters folded. */
    boolean regionMatches(int from, String lowerCase, boolean exact) {
        for (int k = 0; k < lowerCase.length(); k++) {
            int c = at(from + k);
            if ((exact ? c : fold(c)) != lowerCase.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** ASCII only: PostgreSQL leaves other letters of a UTF-8 identifier as they are. */
    static int fold(int c) {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }

    static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    static boolean isIdentifierStart(int c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80;
    }

    static boolean isIdentifierPart(int c) {
        return isIdentifierStart(c) || isDigit(c) || c == '$';
    }
}
