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

    /** What the statement uses that forces pinning, or null. */
    static String reason(byte[] statementStart) {
        int i = 0;
        while (i < statementStart.length && Character.isWhitespace(statementStart[i])) {
            i++;
        }
        if (i >= statementStart.length) {
            return null;
        }
        int first = statementStart[i] | 0x20;
        if (first != 's' && first != 'c') {
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
