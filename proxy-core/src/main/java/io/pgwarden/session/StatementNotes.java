package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.sql.StatementScanner;
import java.nio.charset.StandardCharsets;

/**
 * The statements an operator sees for a client (SHOW CLIENTS, SHOW LEAKS, the idle-in-transaction log): the
 * start of their text, never their parameters. Kept as bytes and decoded only when someone looks, since every
 * Query and Parse passes through here.
 */
final class StatementNotes {

    /** This much of a statement is kept. */
    private static final int PREFIX_BYTES = 200;

    // Read by the admin console from other threads.
    private volatile byte[] transactionStart;
    private volatile byte[] last;
    private byte[] firstSinceIdle;

    /**
     * Keeps the start of a Query's or Parse's statement text and returns it.
     *
     * @param inTransaction whether the client's transaction was open when the message arrived
     */
    byte[] note(ByteBuf message, byte tag, boolean inTransaction) {
        int start = message.readerIndex() + Frames.HEADER_LENGTH;
        if (tag == Tags.Frontend.PARSE) {
            start = message.indexOf(start, message.writerIndex(), (byte) 0) + 1;
        }
        int end = message.indexOf(start, message.writerIndex(), (byte) 0);
        if (end < 0) {
            // The head of a streamed message: its text goes on past what is here.
            end = message.writerIndex();
        }
        int length = Math.max(0, Math.min(end - start, PREFIX_BYTES));
        byte[] text = last;
        // Clients mostly repeat their statements: the last copy serves again (the arrays are never changed).
        if (text == null || !sameBytes(message, start, length, text)) {
            text = new byte[length];
            message.getBytes(start, text);
            last = text;
        }
        if (!isBegin(text)) {
            if (!inTransaction) {
                if (firstSinceIdle == null) {
                    firstSinceIdle = text;
                }
            } else if (transactionStart == null) {
                // A bare BEGIN's ReadyForQuery came back before this statement arrived (drivers may send BEGIN
                // on its own): the transaction's first real statement is this one.
                transactionStart = text;
            }
        }
        return text;
    }

    /** The client's ReadyForQuery said idle: the next statement may open a transaction. */
    void onIdle() {
        firstSinceIdle = null;
    }

    /** The client's ReadyForQuery said a transaction is open: its first real statement is known by now, or next. */
    void onTransactionStart() {
        transactionStart = firstSinceIdle;
    }

    String transactionStart() {
        return decode(transactionStart);
    }

    String last() {
        return decode(last);
    }

    private static boolean sameBytes(ByteBuf message, int start, int length, byte[] text) {
        if (text.length != length) {
            return false;
        }
        int i = 0;
        // Eight bytes a read: each ByteBuf read checks the buffer's bounds and liveness, and this runs for every
        // Query and Parse.
        for (; i + Long.BYTES <= length; i += Long.BYTES) {
            if (message.getLong(start + i) != bigEndianLong(text, i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (message.getByte(start + i) != text[i]) {
                return false;
            }
        }
        return true;
    }

    private static long bigEndianLong(byte[] b, int at) {
        return (b[at] & 0xffL) << 56 | (b[at + 1] & 0xffL) << 48 | (b[at + 2] & 0xffL) << 40
                | (b[at + 3] & 0xffL) << 32 | (b[at + 4] & 0xffL) << 24 | (b[at + 5] & 0xffL) << 16
                | (b[at + 6] & 0xffL) << 8 | (b[at + 7] & 0xffL);
    }

    private static boolean isBegin(byte[] text) {
        int from = 0;
        while (from < text.length && (text[from] == ' ' || text[from] == '\t' || text[from] == '\n'
                || text[from] == '\r')) {
            from++;
        }
        return StatementScanner.startsWithIgnoringCase(text, from, "begin")
                || StatementScanner.startsWithIgnoringCase(text, from, "start transaction");
    }

    private static String decode(byte[] text) {
        // Cut at a character boundary: the prefix may end inside a multi-byte character.
        return text == null ? null : new String(text, StandardCharsets.UTF_8).replace("\uFFFD", "");
    }
}
