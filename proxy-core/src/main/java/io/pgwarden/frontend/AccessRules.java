package io.pgwarden.frontend;

import io.pgwarden.config.AccessRule;
import io.pgwarden.config.AuthMethod;
import io.pgwarden.protocol.ErrorResponse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * The {@code access:} rules applied to one connection once its startup packet is read, before authentication: the
 * first rule matching its database, user, address and encryption decides, as the first matching pg_hba.conf line
 * does in PostgreSQL, and no matching rule refuses it.
 */
final class AccessRules {

    /**
     * What the rules decided.
     *
     * @param rule the index of the deciding rule in {@code access:}, or -1 when none matched (or there are none)
     * @param method how the client must authenticate; null when there are no rules (the user's own auth applies)
     *               and when it is refused
     */
    record Verdict(int rule, AccessRule.Method method) {
        private static final Verdict NO_RULES = new Verdict(-1, null);

        boolean refused() {
            return method == AccessRule.Method.REJECT;
        }

        /** The password exchange to ask for in place of the user's own auth; null for the user's own. */
        AuthMethod passwordMethod() {
            return method == null ? null : method.passwordMethod().orElse(null);
        }

        /** For the log line: which rule decided, by its index in the file. */
        String ruleLabel() {
            return rule < 0 ? "none" : Integer.toString(rule);
        }
    }

    private AccessRules() {
    }

    static Verdict decide(List<AccessRule> rules, String database, String user, SocketAddress remote, boolean tls) {
        if (rules.isEmpty()) {
            return Verdict.NO_RULES;
        }
        InetAddress address = remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
        for (int i = 0; i < rules.size(); i++) {
            AccessRule rule = rules.get(i);
            if (names(rule.databases(), database) && names(rule.users(), user) && address(rule, address)
                    && tls(rule.tls(), tls)) {
                return new Verdict(i, rule.method());
            }
        }
        return new Verdict(-1, AccessRule.Method.REJECT);
    }

    /**
     * One message for a reject rule and for no rule at all, in the words of PostgreSQL's "no pg_hba.conf entry"
     * line: the client learns what it asked for, never which rule exists.
     */
    static ErrorResponse refusal(String database, String user, SocketAddress remote, boolean tls) {
        String host = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : "[local]";
        return ErrorResponse.fatal("28000", "pgwarden: no access for host \"" + host + "\", user \"" + user
                + "\", database \"" + database + "\", " + (tls ? "SSL encryption" : "no encryption"));
    }

    private static boolean names(List<String> names, String name) {
        return names.isEmpty() || names.contains(name);
    }

    private static boolean address(AccessRule rule, InetAddress address) {
        return rule.address() == null || (address != null && rule.address().contains(address));
    }

    private static boolean tls(AccessRule.Tls rule, boolean tls) {
        return switch (rule) {
            case ANY -> true;
            case REQUIRED -> tls;
            case NONE -> !tls;
        };
    }
}
