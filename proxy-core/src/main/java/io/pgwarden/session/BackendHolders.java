package io.pgwarden.session;

import io.pgwarden.pool.BackendPool;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Who holds a pool's backends, for the client that waits for one: an error that says "10 of 10 in use" leaves it
 * nothing to act on, one that names the transaction idle for 18 s and where it comes from does. Built only when a
 * waiter is told (a notice or a timeout), by a walk over the sessions.
 */
final class BackendHolders {

    /** Enough to name the culprits of a leak without a detail longer than the screen. */
    private static final int NAMED = 5;

    private BackendHolders() {
    }

    /** "held by: client#3 idle in transaction for 18.2 s (...); ..." or null when no client holds one. */
    static String describe(ProxyContext context, BackendPool pool) {
        List<ClientView> holders = new ArrayList<>();
        for (ClientSession s : context.sessions().all()) {
            if (s.pool() == pool && s.linkedBackend() != null) {
                holders.add(s.view());
            }
        }
        if (holders.isEmpty()) {
            return null;
        }
        holders.sort(Comparator.comparingLong(BackendHolders::heldMillis).reversed());
        StringBuilder out = new StringBuilder("server connections held by: ");
        for (int i = 0; i < Math.min(NAMED, holders.size()); i++) {
            ClientView v = holders.get(i);
            if (i > 0) {
                out.append("; ");
            }
            out.append("client#").append(v.id()).append(' ').append(v.state()).append(" for ")
                    .append(seconds(v.stateAgeMillis()))
                    .append(" (application_name \"").append(v.applicationName() == null ? "" : v.applicationName())
                    .append("\", addr ").append(v.address());
            if (v.transactionAgeMillis() >= 0) {
                out.append(", in a transaction for ").append(seconds(v.transactionAgeMillis()));
                if (v.transactionStartStatement() != null) {
                    out.append(" begun by \"").append(v.transactionStartStatement()).append('"');
                }
            } else if (v.lastStatement() != null) {
                out.append(", running \"").append(v.lastStatement()).append('"');
            }
            out.append(')');
        }
        if (holders.size() > NAMED) {
            out.append("; and ").append(holders.size() - NAMED).append(" more (SHOW CLIENTS lists them)");
        }
        return out.toString();
    }

    /** Longest first: a transaction's age when in one, else how long the client has been in its state. */
    private static long heldMillis(ClientView v) {
        return Math.max(v.transactionAgeMillis(), v.stateAgeMillis());
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
