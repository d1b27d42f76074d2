package io.pgwarden.session;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Transaction mode: the statements whose effect outlives the transaction on the backend and belongs to one
 * client alone. Matched on the statement's first words only (cheap on every statement, and precise enough:
 * these are commands, not expressions).
 */
final class SessionPinning {

    private static final List<String[]> PREFIXES = List.of(
            new String[] {"set role", "SET ROLE"},
            new String[] {"set session authorization", "SET SESSION AUTHORIZATION"},
            new String[] {"create temp", "a temporary table"},
            new String[] {"create temporary", "a temporary table"},
            new String[] {"create local temp", "a temporary table"},
            new String[] {"create global temp", "a temporary table"},
            new String[] {"create unlogged temp", "a temporary table"});

    private SessionPinning() {
    }

    static boolean startsWithIgnoringCase(byte[] text, int from, String lowerPrefix) {
        if (text.length - from < lowerPrefix.length()) {
            return false;
        }
        for (int k = 0; k < lowerPrefix.length(); k++) {
            if ((text[from + k] | 0x20) != lowerPrefix.charAt(k) && text[from + k] != lowerPrefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** What a Query's or Parse's statement uses that forces pinning, or null. */
    static String reason(io.netty.buffer.ByteBuf message, byte tag) {
        return reason(head(message, tag));
    }

    /** The start of a Query's or Parse's statement text. */
    static byte[] head(io.netty.buffer.ByteBuf message, byte tag) {
        int start = message.readerIndex() + io.pgwarden.protocol.Frames.HEADER_LENGTH;
        if (tag == io.pgwarden.protocol.Tags.Frontend.PARSE) {
            start = message.indexOf(start, message.writerIndex(), (byte) 0) + 1;
        }
        int end = message.indexOf(start, message.writerIndex(), (byte) 0);
        byte[] text = new byte[Math.max(0, Math.min(end - start, 200))];
        message.getBytes(start, text);
        return text;
    }

    /** What the statement uses that forces pinning, or null. */
    static String reason(byte[] statementStart) {
        int i = 0;
        while (i < statementStart.length && Character.isWhitespace(statementStart[i])) {
            i++;
        }
        if (i >= statementStart.length) {
            return null;
        }
        // Byte checks first: this runs on every statement, and almost none start with SET or CREATE.
        if (!startsWithIgnoringCase(statementStart, i, "set ") && !startsWithIgnoringCase(statementStart, i, "set\t")
                && !startsWithIgnoringCase(statementStart, i, "create")) {
            return null;
        }
        String head = new String(statementStart, i, Math.min(40, statementStart.length - i), StandardCharsets.UTF_8)
                .toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        for (String[] prefix : PREFIXES) {
            if (head.startsWith(prefix[0])) {
                return prefix[1];
            }
        }
        return null;
    }
}
