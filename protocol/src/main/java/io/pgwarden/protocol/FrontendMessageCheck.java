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
            case Tags.Frontend.PARSE -> checkParse(message);
            case Tags.Frontend.BIND -> checkBind(message);
            case Tags.Frontend.DESCRIBE, Tags.Frontend.CLOSE -> checkTarget(message);
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
        int end = message.writerIndex();
        int body = bodyStart(message);
        String malformed = switch (tag) {
            case Tags.Frontend.QUERY, Tags.Frontend.FUNCTION_CALL, Tags.Frontend.COPY_DATA -> null;
            case Tags.Frontend.PARSE -> string(message, body, end) >= 0 ? null : "invalid string in message";
            case Tags.Frontend.BIND -> string(message, string(message, body, end), end) >= 0 ? null
                    : "invalid string in message";
            default -> "invalid frontend message type " + (tag & 0xff);
        };
        return malformed == null ? null : ErrorResponse.fatal("08P01", malformed);
    }

    // The walks below pass positions, not a cursor object: every Parse, Bind, Describe and Close comes through
    // here, and an object per message was a tenth of what the proxy allocated under pgbench (the JIT the image
    // runs with, C1, does not elide it). A position below zero means the walk already failed.

    private static String checkParse(ByteBuf m) {
        int end = m.writerIndex();
        int at = string(m, string(m, bodyStart(m), end), end);
        if (at < 0) {
            return "invalid string in message";
        }
        int types = int16(m, at, end);
        if (types < 0 || (at = skip(at + 2, types * 4L, end)) < 0) {
            return "insufficient data left in message";
        }
        return end(at, end);
    }

    private static String checkBind(ByteBuf m) {
        int end = m.writerIndex();
        int at = string(m, string(m, bodyStart(m), end), end);
        if (at < 0) {
            return "invalid string in message";
        }
        int formats = int16(m, at, end);
        if (formats < 0 || (at = skip(at + 2, formats * 2L, end)) < 0) {
            return "insufficient data left in message";
        }
        int parameters = int16(m, at, end);
        if (parameters < 0) {
            return "insufficient data left in message";
        }
        at += 2;
        for (int i = 0; i < parameters; i++) {
            if (end - at < 4) {
                return "insufficient data left in message";
            }
            long length = m.getInt(at);
            at += 4;
            // -1 is NULL; anything else below zero is as impossible as a length past the end.
            if (length < -1 || (length > 0 && (at = skip(at, length, end)) < 0)) {
                return "insufficient data left in message";
            }
        }
        int resultFormats = int16(m, at, end);
        if (resultFormats < 0 || (at = skip(at + 2, resultFormats * 2L, end)) < 0) {
            return "insufficient data left in message";
        }
        return end(at, end);
    }

    private static String checkTarget(ByteBuf m) {
        int end = m.writerIndex();
        int at = skip(bodyStart(m), 1, end);
        if (at < 0) {
            return "no data left in message";
        }
        at = string(m, at, end);
        if (at < 0) {
            return "invalid string in message";
        }
        return end(at, end);
    }

    private static int bodyStart(ByteBuf m) {
        return m.readerIndex() + Frames.HEADER_LENGTH;
    }

    /** Past the NUL that ends the string at {@code at}, or -1 when there is none before {@code end}. */
    private static int string(ByteBuf m, int at, int end) {
        if (at < 0 || at >= end) {
            return -1;
        }
        int nul = m.indexOf(at, end, (byte) 0);
        return nul < 0 ? -1 : nul + 1;
    }

    /** {@code bytes} further on, or -1 when fewer are left. */
    private static int skip(int at, long bytes, int end) {
        return bytes > end - at ? -1 : at + (int) bytes;
    }

    /** The unsigned 16-bit count at {@code at}, or -1 when fewer than two bytes are left. */
    private static int int16(ByteBuf m, int at, int end) {
        // PostgreSQL's pq_getmsgint(msg, 2) reads counts unsigned too.
        return end - at < 2 ? -1 : m.getUnsignedShort(at);
    }

    private static String end(int at, int end) {
        return at == end ? null : "invalid message format";
    }
}
