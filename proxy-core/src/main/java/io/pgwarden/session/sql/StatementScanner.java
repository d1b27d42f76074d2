package io.pgwarden.session.sql;

import static io.pgwarden.session.sql.SqlLexer.fold;
import static io.pgwarden.session.sql.SqlLexer.isDigit;
import static io.pgwarden.session.sql.SqlLexer.isIdentifierStart;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Walks the statements of SQL text in a {@link ByteBuf} (UTF-8) and the tokens of each, cut as PostgreSQL's
 * lexer cuts them: {@code --} and nested block comments are skipped, and string literals ({@code '…'},
 * {@code E'…'}, {@code $tag$…$tag$}, the B, X, N and U&amp; forms) and quoted identifiers are single tokens, so a
 * {@code ;} inside them does not end a statement.
 *
 * <p>It runs on every Query and Parse, so it allocates nothing while it scans: tokens are compared where they
 * lie, and only {@link #text()} makes a String. One instance does one scan at a time; {@link #reset} starts
 * the next.
 */
public final class StatementScanner {

    /** What a token is. Punctuation tokens are one byte each; operators are not assembled. */
    public enum Kind { WORD, QUOTED_IDENTIFIER, STRING, NUMBER, PARAMETER, PUNCTUATION }

    /** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
    private static final int MAX_IDENTIFIER_BYTES = 63;

    private final SqlLexer lexer = new SqlLexer();
    private boolean backslashQuotes;
    private int pos;
    private boolean inStatement;

    private Kind kind;
    private int contentStart;
    private int contentEnd;
    /** The value differs from the bytes: doubled quotes, or backslash escapes when {@link #backslashes}. */
    private boolean escaped;
    private boolean backslashes;
    private boolean unicode;

    /**
     * Starts a scan of {@code text} from byte {@code from} (inclusive) to {@code to} (exclusive).
     *
     * @param backslashQuotes read {@code '…'} as PostgreSQL does with standard_conforming_strings off
     */
    public StatementScanner reset(ByteBuf text, int from, int to, boolean backslashQuotes) {
        lexer.reset(text, from, to);
        this.backslashQuotes = backslashQuotes;
        pos = from;
        inStatement = false;
        return this;
    }

    public StatementScanner reset(ByteBuf text, int from, int to) {
        return reset(text, from, to, false);
    }

    /** Lets go of the last text, so a scanner kept by a thread does not hold a released buffer. */
    public void clear() {
        reset(Unpooled.EMPTY_BUFFER, 0, 0, false);
    }

    /**
     * Moves to the first token of the next statement that has one, past what is left of the current statement
     * and past empty ones. False when the text has no more.
     */
    public boolean nextStatement() {
        while (inStatement) {
            nextToken();
        }
        while (true) {
            pos = lexer.skipSpaceAndComments(pos);
            if (pos >= lexer.end()) {
                return false;
            }
            if (lexer.at(pos) == ';') {
                pos++;
                continue;
            }
            lex();
            inStatement = true;
            return true;
        }
    }

    /** Moves to the next token of the current statement. False at its {@code ;} or the end of the text. */
    public boolean nextToken() {
        if (!inStatement) {
            return false;
        }
        pos = lexer.skipSpaceAndComments(pos);
        if (pos >= lexer.end() || lexer.at(pos) == ';') {
            pos = Math.min(pos + 1, lexer.end());
            inStatement = false;
            return false;
        }
        lex();
        return true;
    }

    public Kind kind() {
        return kind;
    }

    /** The token's length in bytes as written, without quotes or dollar tags. */
    public int length() {
        return contentEnd - contentStart;
    }

    /** The token is the unquoted word {@code lowerCase}, in any case (a quoted keyword is a name). */
    public boolean isKeyword(String lowerCase) {
        return kind == Kind.WORD && matches(lowerCase, false);
    }

    /** The token names {@code lowerCase}: unquoted in any case, or quoted exactly so. */
    public boolean isName(String lowerCase) {
        return kind == Kind.WORD ? matches(lowerCase, false) : plainQuotedName() && matches(lowerCase, true);
    }

    /** As {@link #isName}, but quoted in any case too, as PostgreSQL looks up setting names. */
    public boolean isNameIgnoringCase(String lowerCase) {
        return (kind == Kind.WORD || plainQuotedName()) && matches(lowerCase, false);
    }

    /** The token is a name that starts with {@code lowerCase} (quoted: exactly so). */
    public boolean nameStartsWith(String lowerCase) {
        return (kind == Kind.WORD || plainQuotedName()) && contentEnd - contentStart >= lowerCase.length()
                && lexer.regionMatches(contentStart, lowerCase, kind != Kind.WORD);
    }

    public boolean isPunctuation(char c) {
        return kind == Kind.PUNCTUATION && lexer.at(contentStart) == c;
    }

    /** The token is a string literal whose value is {@code lowerCase}, ASCII case ignored. */
    public boolean stringEqualsIgnoringCase(String lowerCase) {
        return kind == Kind.STRING && !escaped && matches(lowerCase, false);
    }

    /** The token is a string literal with {@code lowerCase} in it, ASCII case ignored (escapes left as written). */
    public boolean stringContainsIgnoringCase(String lowerCase) {
        if (kind != Kind.STRING) {
            return false;
        }
        for (int i = contentStart; i <= contentEnd - lowerCase.length(); i++) {
            if (lexer.regionMatches(i, lowerCase, false)) {
                return true;
            }
        }
        return false;
    }

    /** The token's value differs from its bytes: it has doubled quotes or backslash escapes. */
    public boolean isEscaped() {
        return escaped;
    }

    /** A U&amp; form: its value has Unicode escapes, which this scanner leaves undecoded. */
    public boolean isUnicodeEscaped() {
        return unicode;
    }

    /** Where the token's value starts in the text: past its quote or dollar tag. */
    public int contentStart() {
        return contentStart;
    }

    public int contentEnd() {
        return contentEnd;
    }

    /**
     * A plain {@code '…'} literal held a backslash since {@link #reset}: with standard_conforming_strings off
     * PostgreSQL may end it elsewhere, so a caller that must not miss a statement scans again with
     * {@code backslashQuotes}.
     */
    public boolean sawBackslashInString() {
        return lexer.sawBackslashInString;
    }

    /**
     * The token's value as PostgreSQL reads it: a word folded to lower case, a quoted identifier with {@code ""}
     * undone (both truncated to 63 bytes, as PostgreSQL does), a literal with its escapes undone (a backslash
     * escape to the character after it, which is exact for names only); other tokens as written.
     */
    public String text() {
        byte[] value = new byte[contentEnd - contentStart];
        int quote = kind == Kind.STRING ? '\'' : '"';
        int n = 0;
        for (int i = contentStart; i < contentEnd; i++) {
            int c = lexer.at(i);
            if (escaped && (c == '\\' && backslashes || c == quote && lexer.at(i + 1) == quote)) {
                c = lexer.at(++i);
            }
            value[n++] = (byte) (kind == Kind.WORD ? fold(c) : c);
        }
        if ((kind == Kind.WORD || kind == Kind.QUOTED_IDENTIFIER) && n > MAX_IDENTIFIER_BYTES) {
            n = MAX_IDENTIFIER_BYTES;
            // Cut before the character the limit falls in, as pg_mbcliplen does.
            while (n > 0 && (value[n] & 0xC0) == 0x80) {
                n--;
            }
        }
        return new String(value, 0, n, StandardCharsets.UTF_8);
    }

    /** {@code text[from..]} starts with {@code lowerPrefix}, ASCII case ignored. */
    public static boolean startsWithIgnoringCase(byte[] text, int from, String lowerPrefix) {
        if (text.length - from < lowerPrefix.length()) {
            return false;
        }
        for (int k = 0; k < lowerPrefix.length(); k++) {
            if (fold(text[from + k] & 0xFF) != lowerPrefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private boolean plainQuotedName() {
        return kind == Kind.QUOTED_IDENTIFIER && !escaped && !unicode;
    }

    private boolean matches(String lowerCase, boolean exact) {
        return contentEnd - contentStart == lowerCase.length() && lexer.regionMatches(contentStart, lowerCase, exact);
    }

    private void lex() {
        int c = lexer.at(pos);
        escaped = false;
        backslashes = false;
        unicode = false;
        if (isIdentifierStart(c)) {
            int next = lexer.at(pos + 1);
            int letter = fold(c);
            if (next == '\'' && (letter == 'e' || letter == 'b' || letter == 'x' || letter == 'n')) {
                quoted(Kind.STRING, pos + 1, letter == 'e' || letter == 'n' && backslashQuotes, letter == 'n');
            } else if (letter == 'u' && next == '&' && (lexer.at(pos + 2) == '\'' || lexer.at(pos + 2) == '"')) {
                unicode = true;
                quoted(lexer.at(pos + 2) == '"' ? Kind.QUOTED_IDENTIFIER : Kind.STRING, pos + 2, false, false);
            } else {
                token(Kind.WORD, pos, lexer.wordEnd(pos + 1));
            }
        } else if (c == '"') {
            quoted(Kind.QUOTED_IDENTIFIER, pos, false, false);
        } else if (c == '\'') {
            quoted(Kind.STRING, pos, backslashQuotes, true);
        } else if (c == '$') {
            dollar();
        } else if (isDigit(c) || c == '.' && isDigit(lexer.at(pos + 1))) {
            token(Kind.NUMBER, pos, lexer.numberEnd(pos + 1));
        } else {
            token(Kind.PUNCTUATION, pos, pos + 1);
        }
    }

    private void token(Kind kind, int start, int stop) {
        this.kind = kind;
        contentStart = start;
        contentEnd = stop;
        pos = stop;
    }

    private void quoted(Kind kind, int open, boolean backslashEscapes, boolean plain) {
        int close = lexer.quotedEnd(open, kind == Kind.STRING ? '\'' : '"', backslashEscapes, plain);
        this.kind = kind;
        escaped = lexer.escaped;
        backslashes = backslashEscapes;
        contentStart = open + 1;
        contentEnd = close;
        pos = Math.min(close + 1, lexer.end());
    }

    /** {@code $1}, a dollar-quoted literal, or a lone {@code $}. */
    private void dollar() {
        if (isDigit(lexer.at(pos + 1))) {
            int i = pos + 1;
            while (isDigit(lexer.at(i))) {
                i++;
            }
            token(Kind.PARAMETER, pos, i);
            return;
        }
        int tagEnd = lexer.dollarTagEnd(pos);
        if (tagEnd < 0) {
            token(Kind.PUNCTUATION, pos, pos + 1);
            return;
        }
        int tagLength = tagEnd - pos - 1;
        int close = lexer.dollarBodyEnd(tagEnd + 1, pos + 1, tagLength);
        kind = Kind.STRING;
        contentStart = tagEnd + 1;
        contentEnd = close;
        pos = Math.min(close + tagLength + 2, lexer.end());
    }
}
