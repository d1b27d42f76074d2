package io.pgwarden.session.sql;

import static io.pgwarden.session.sql.SqlLexer.fold;
import static io.pgwarden.session.sql.SqlLexer.isIdentifierPart;

import io.netty.buffer.ByteBuf;

/**
 * A first look at a short Query or Parse text that settles, without cutting it into tokens, that
 * {@link StatementEffects} would find nothing in it: the text of nearly every transaction (a lone SELECT,
 * INSERT, UPDATE or DELETE, a BEGIN or COMMIT). Tokenising and looking up every word of such text was a tenth of
 * the event loop's user time on a select-only load.
 *
 * <p>It only ever answers "nothing" where no rule of StatementEffects can match, read from the raw bytes and so
 * on the safe side of every comment, literal and quoted identifier:
 * <ul>
 *   <li>rules keyed on a statement's first word (SET, RESET, LISTEN, LOAD, DROP, PREPARE, DECLARE, DO): the
 *       text starts, after white space only, with a command from {@link #PLAIN_COMMANDS}, and has no {@code ;}
 *       but trailing ones, so it holds no second statement (a {@code ;} in a literal also sends it the long way);
 *   <li>rules keyed on a word anywhere (TEMP/TEMPORARY, pg_temp, set_config, the advisory lock functions,
 *       lo_open): none of {@link #TRIGGERS} appears anywhere in the text, ASCII case folded, as the scanner folds
 *       words; every such word, unquoted or quoted, has one of them in its bytes.</li>
 * </ul>
 * Anything else, and text longer than {@link #MAX_LENGTH}, is read by the full scan.
 * {@code PlainStatementScreenTest} holds the two to the same answers over a corpus.
 */
final class PlainStatementScreen {

    /** Longer text is rare on the hot path and goes straight to the full scan. */
    static final int MAX_LENGTH = 512;

    /** First words on which StatementEffects keys no rule. */
    private static final String[] PLAIN_COMMANDS = {
        "select", "insert", "update", "delete", "begin", "commit", "end", "rollback", "abort", "start", "values",
        "with", "show",
    };

    /** Every word a rule reacts to past the first contains one of these; no two start with the same two letters. */
    private static final String[] TRIGGERS = {"temp", "set_config", "advisory", "lo_open"};

    private final byte[] bytes = new byte[MAX_LENGTH];

    /** True only when the full scan of bytes {@code from} to {@code to} would find nothing. */
    boolean isPlain(ByteBuf text, int from, int to) {
        int length = to - from;
        if (length <= 0 || length > MAX_LENGTH) {
            return false;
        }
        text.getBytes(from, bytes, 0, length);
        int i = 0;
        while (i < length && isSpace(bytes[i])) {
            i++;
        }
        int wordStart = i;
        while (i < length && isIdentifierPart(bytes[i] & 0xFF)) {
            i++;
        }
        if (!isPlainCommand(wordStart, i)) {
            return false;
        }
        for (; i < length; i++) {
            int c = fold(bytes[i] & 0xFF);
            if (c == ';') {
                if (!onlySpaceAndSemicolonsFrom(i + 1, length)) {
                    return false;
                }
            } else if (c >= 'a' && c <= 't' && i + 1 < length) {
                // No two triggers share their first two letters: most letters cost a look at the next one.
                int trigger = triggerStartingWith(c, fold(bytes[i + 1] & 0xFF));
                if (trigger >= 0 && spells(i, length, TRIGGERS[trigger])) {
                    return false;
                }
            }
        }
        return true;
    }

    private static int triggerStartingWith(int first, int second) {
        return first == 't' && second == 'e' ? 0 : first == 's' && second == 'e' ? 1
                : first == 'a' && second == 'd' ? 2 : first == 'l' && second == 'o' ? 3 : -1;
    }

    private boolean isPlainCommand(int start, int end) {
        for (String command : PLAIN_COMMANDS) {
            if (command.length() == end - start && spells(start, end, command)) {
                return true;
            }
        }
        return false;
    }

    private boolean spells(int at, int length, String lowerCase) {
        if (length - at < lowerCase.length()) {
            return false;
        }
        for (int k = 0; k < lowerCase.length(); k++) {
            if (fold(bytes[at + k] & 0xFF) != lowerCase.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private boolean onlySpaceAndSemicolonsFrom(int i, int length) {
        for (; i < length; i++) {
            if (!isSpace(bytes[i]) && bytes[i] != ';') {
                return false;
            }
        }
        return true;
    }

    /** The white space SqlLexer skips. */
    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }
}
