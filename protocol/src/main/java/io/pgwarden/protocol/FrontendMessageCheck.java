package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Whether a whole frontend message, received after login, may be read and passed on at all. A pooler reads
 * statement names out of Parse, Bind, Describe and Close, and a backend ends itself on a message type it does not
 * know, taking its other clients' work with it; so both are refused here, before anyone parses the message.
 * The texts are PostgreSQL's own (postgres.c SocketBackend, pqformat.c).
 */
public final class FrontendMessageCheck {

    private FrontendMessageCheck() {
    }

    /**
     * Null when {@code message} (header included, reader index at its tag) is acceptable; otherwise the
     * FATAL error to end the client with. Never moves the reader index.
     */
    public static ErrorResponse problem(ByteBuf message) {
        byte tag = Frames.tag(message);
        if (Frames.isPartial(message)) {
            return partialProblem(message, tag);
        }
        String malformed = switch (tag) {
            case Tags.Frontend.QUERY, Tags.Frontend.EXECUTE, Tags.Frontend.SYNC, Tags.Frontend.FLUSH,
                    Tags.Frontend.TERMINATE, Tags.Frontend.FUNCTION_CALL, Tags.Frontend.COPY_DATA,
                    Tags.Frontend.COPY_DONE, Tags.Frontend.COPY_FAIL -> null;
            case Tags.Frontend.PARSE -> checkParse(new Cursor(message));
            case Tags.Frontend.BIND -> checkBind(new Cursor(message));
            case Tags.Frontend.DESCRIBE, Tags.Frontend.CLOSE -> checkTarget(new Cursor(message));
            // PostgresMain's default case: the type is read before the body, so nothing of it is looked at.
            default -> "invalid frontend message type " + (tag & 0xff);
        };
        return malformed == null ? null : ErrorResponse.fatal("08P01", malformed);
    }

    /**
     * The head of a message relayed as it arrives: only what pgwarden reads of it is checked, the names at the
     * start of an unnamed Parse or a Bind; PostgreSQL checks the rest, and a malformed rest is an ERROR there
     * (pq_getmsg*), which ends neither the backend nor the framing, as the length is intact.
     */
    private static ErrorResponse partialProblem(ByteBuf message, byte tag) {
        Cursor c = new Cursor(message);
        String malformed = switch (tag) {
            case Tags.Frontend.QUERY, Tags.Frontend.FUNCTION_CALL, Tags.Frontend.COPY_DATA -> null;
            case Tags.Frontend.PARSE -> c.string() ? null : "invalid string in message";
            case Tags.Frontend.BIND -> c.string() && c.string() ? null : "invalid string in message";
            default -> "invalid frontend message type " + (tag & 0xff);
        };
        return malformed == null ? null : ErrorResponse.fatal("08P01", malformed);
    }

    private static String checkParse(Cursor c) {
        if (!c.string() || !c.string()) {
            return "invalid string in message";
        }
        int types = c.int16();
        if (types < 0 || !c.skip(types * 4L)) {
            return "insufficient data left in message";
        }
        return c.end();
    }

    private static String checkBind(Cursor c) {
        if (!c.string() || !c.string()) {
            return "invalid string in message";
        }
        int formats = c.int16();
        if (formats < 0 || !c.skip(formats * 2L)) {
            return "insufficient data left in message";
        }
        int parameters = c.int16();
        if (parameters < 0) {
            return "insufficient data left in message";
        }
        for (int i = 0; i < parameters; i++) {
            long length = c.int32();
            // -1 is NULL; anything else below zero is as impossible as a length past the end.
            if (length == Long.MIN_VALUE || length < -1 || (length > 0 && !c.skip(length))) {
                return "insufficient data left in message";
            }
        }
        int resultFormats = c.int16();
        if (resultFormats < 0 || !c.skip(resultFormats * 2L)) {
            return "insufficient data left in message";
        }
        return c.end();
    }

    private static String checkTarget(Cursor c) {
        if (!c.skip(1)) {
            return "no data left in message";
        }
        if (!c.string()) {
            return "invalid string in message";
        }
        return c.end();
    }

    /** Walks a message's body without reading it into anything. */
    private static final class Cursor {
        private final ByteBuf message;
        private final int end;
        private int at;

        Cursor(ByteBuf message) {
            this.message = message;
            this.at = message.readerIndex() + Frames.HEADER_LENGTH;
            this.end = message.writerIndex();
        }

        boolean string() {
            int nul = at < end ? message.indexOf(at, end, (byte) 0) : -1;
            if (nul < 0) {
                return false;
            }
            at = nul + 1;
            return true;
        }

        boolean skip(long bytes) {
            if (bytes > end - at) {
                return false;
            }
            at += (int) bytes;
            return true;
        }

        /** An unsigned 16-bit count, or -1 when fewer than two bytes are left. */
        int int16() {
            if (end - at < 2) {
                return -1;
            }
            // PostgreSQL's pq_getmsgint(msg, 2) reads counts unsigned too.
            int value = message.getUnsignedShort(at);
            at += 2;
            return value;
        }

        /** A signed 32-bit value, or Long.MIN_VALUE when fewer than four bytes are left. */
        long int32() {
            if (end - at < 4) {
                return Long.MIN_VALUE;
            }
            int value = message.getInt(at);
            at += 4;
            return value;
        }

        String end() {
            return at == end ? null : "invalid message format";
        }
    }
}
