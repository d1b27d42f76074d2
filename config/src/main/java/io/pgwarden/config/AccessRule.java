package io.pgwarden.config;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One line of {@code access:}, read like a pg_hba.conf line: the first rule whose database, user, address and TLS
 * all match the connection decides how it must authenticate, or that it is refused.
 *
 * @param databases the database names it applies to; empty means all
 * @param users the user names it applies to; empty means all
 * @param address the client addresses it applies to; null means all
 */
public record AccessRule(List<String> databases, List<String> users, AddressRange address, Tls tls, Method method) {

    public enum Tls {
        /** Whether or not the client encrypted its connection. */
        ANY("any"),
        /** Only clients on TLS. */
        REQUIRED("required"),
        /** Only clients in plain text. */
        NONE("none");

        private final String yamlName;

        Tls(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }
    }

    public enum Method {
        SCRAM_SHA_256("scram-sha-256", AuthMethod.SCRAM_SHA_256),
        MD5("md5", AuthMethod.MD5),
        CLEARTEXT("cleartext", AuthMethod.CLEARTEXT),
        /** A verified client certificate whose CN is the user name, and no password, as PostgreSQL's cert. */
        CERT("cert", null),
        REJECT("reject", null);

        private final String yamlName;
        private final AuthMethod password;

        Method(String yamlName, AuthMethod password) {
            this.yamlName = yamlName;
            this.password = password;
        }

        public String yamlName() {
            return yamlName;
        }

        /** The password exchange this method asks for; empty for cert and reject. */
        public Optional<AuthMethod> passwordMethod() {
            return Optional.ofNullable(password);
        }
    }

    public AccessRule {
        databases = List.copyOf(databases);
        users = List.copyOf(users);
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(method, "method");
    }

    /** The rule as one line of SHOW CONFIG and of the docs' own notation. */
    public String describe() {
        return "database=" + names(databases) + " user=" + names(users) + " address="
                + (address == null ? "all" : address) + " tls=" + tls.yamlName() + " method=" + method.yamlName();
    }

    private static String names(List<String> names) {
        return names.isEmpty() ? "all" : String.join(",", names);
    }
}
