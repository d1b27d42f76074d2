package io.pgwarden.session.sql;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;

/**
 * Whether SQL text is a single statement that ends the transaction it runs in:
 * {@code COMMIT | END | ROLLBACK | ABORT [WORK | TRANSACTION] [AND [NO] CHAIN]}, in any case, with any comments,
 * whitespace and trailing semicolons. {@code ROLLBACK TO SAVEPOINT} keeps the transaction and {@code COMMIT
 * PREPARED} / {@code ROLLBACK PREPARED} act on another one (and cannot run inside one), so they are not ends;
 * neither is text with any other statement in it.
 */
public enum TransactionEnd {
    NONE, COMMIT, ROLLBACK;

    private static final FastThreadLocal<StatementScanner> SCANNER = new FastThreadLocal<>() {
        @Override
        protected StatementScanner initialValue() {
            return new StatementScanner();
        }
    };

    /** Reads a whole frontend Query or Parse message (header included). */
    public static TransactionEnd ofMessage(ByteBuf message, byte tag) {
        int from = message.readerIndex() + Frames.HEADER_LENGTH;
        int to = message.writerIndex();
        if (tag == Tags.Frontend.PARSE) {
            from = message.indexOf(from, to, (byte) 0) + 1;
            if (from <= 0) {
                return NONE;
            }
        } else if (tag != Tags.Frontend.QUERY) {
            return NONE;
        }
        int nul = message.indexOf(from, to, (byte) 0);
        return ofText(message, from, nul < 0 ? to : nul);
    }

    /** As {@link #ofMessage}, for SQL text in bytes {@code from} to {@code to} of {@code text}. */
    public static TransactionEnd ofText(ByteBuf text, int from, int to) {
        StatementScanner s = SCANNER.get();
        try {
            s.reset(text, from, to);
            if (!s.nextStatement()) {
                return NONE;
            }
            TransactionEnd end = s.isKeyword("commit") || s.isKeyword("end") ? COMMIT
                    : s.isKeyword("rollback") || s.isKeyword("abort") ? ROLLBACK : NONE;
            if (end == NONE || !s.nextToken()) {
                return end == NONE || s.nextStatement() ? NONE : end;
            }
            if (s.isKeyword("work") || s.isKeyword("transaction")) {
                if (!s.nextToken()) {
                    return s.nextStatement() ? NONE : end;
                }
            }
            if (!s.isKeyword("and") || !s.nextToken()) {
                return NONE;
            }
            if (s.isKeyword("no") && !s.nextToken()) {
                return NONE;
            }
            if (!s.isKeyword("chain") || s.nextToken()) {
                return NONE;
            }
            return s.nextStatement() ? NONE : end;
        } finally {
            s.clear();
        }
    }
}
