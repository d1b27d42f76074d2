package io.pgwarden.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads {@code access:}, the pg_hba.conf-like list of rules; each problem names its rule, e.g. access[3].address. */
final class AccessBinder {
    static final String KEY = "access";
    private static final String ALL = "all";
    private static final List<String> RULE_KEYS = List.of("database", "user", "address", "tls", "method");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    // Letters other than hex digits would make InetAddress look the name up in DNS; a rule names no host.
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final Pattern PREFIX = Pattern.compile("\\d{1,3}");
    private static final Map<String, AccessRule.Method> METHODS = spellings(AccessRule.Method.values());
    private static final Map<String, AccessRule.Tls> TLS = new LinkedHashMap<>();

    static {
        Arrays.stream(AccessRule.Tls.values()).forEach(tls -> TLS.put(tls.yamlName(), tls));
    }

    private final ConfigReader reader;

    AccessBinder(ConfigReader reader) {
        this.reader = reader;
    }

    /** @param listenTls for cert rules, which need clients to present certificates */
    List<AccessRule> bind(Object value, ListenTls listenTls) {
        List<AccessRule> rules = new ArrayList<>();
        Optional<List<Object>> items = reader.list(KEY, value, "a list of rules",
                "; write each rule as an item: - {user: app, method: scram-sha-256}");
        if (items.isEmpty()) {
            return rules;
        }
        if (items.get().isEmpty()) {
            // No rule would refuse everyone, as an empty pg_hba.conf does; far more likely the rules were left out.
            reader.problem(KEY, "has no rules, which would refuse every connection; leave access out to let each"
                    + " user's own auth apply, or list at least one rule");
        }
        for (int i = 0; i < items.get().size(); i++) {
            bindRule(KEY + "[" + i + "]", items.get().get(i), listenTls).ifPresent(rules::add);
        }
        return rules;
    }

    private Optional<AccessRule> bindRule(String path, Object value, ListenTls listenTls) {
        Optional<Map<String, Object>> map = reader.mapping(path, value);
        if (map.isEmpty()) {
            return Optional.empty();
        }
        reader.rejectUnknownKeys(path, map.get(), RULE_KEYS);
        int before = reader.problemCount();
        List<String> databases = names(path, map.get(), "database");
        List<String> users = names(path, map.get(), "user");
        AddressRange address = reader.read(path, map.get(), "address", null, this::address);
        AccessRule.Tls tls = reader.read(path, map.get(), "tls", AccessRule.Tls.ANY,
                (p, v) -> reader.choice(p, v, TLS));
        AccessRule.Method method = null;
        String methodPath = ConfigReader.child(path, "method");
        if (map.get().containsKey("method")) {
            method = reader.choice(methodPath, map.get().get("method"), METHODS).orElse(null);
        } else {
            reader.problem(methodPath, "is required; one of " + String.join(", ", METHODS.keySet()));
        }
        if (method == AccessRule.Method.CERT) {
            if (tls == AccessRule.Tls.NONE) {
                reader.problem(ConfigReader.child(path, "tls"), "cannot be none with method cert: a client"
                        + " certificate comes only over TLS");
            }
            if (listenTls.clientCert() != ListenTls.ClientCert.VERIFY) {
                reader.problem(methodPath, "cert needs listen.tls.client_cert: verify, so that clients present a"
                        + " certificate pgwarden has checked");
            }
            // As PostgreSQL allows cert on hostssl lines only: a plain-text client never matches it.
            tls = AccessRule.Tls.REQUIRED;
        }
        if (reader.problemCount() > before) {
            return Optional.empty();
        }
        return Optional.of(new AccessRule(databases, users, address, tls, method));
    }

    /** A name, a list of names, or {@code all}; empty for all. */
    private List<String> names(String path, Map<String, Object> map, String key) {
        if (!map.containsKey(key)) {
            return List.of();
        }
        String keyPath = ConfigReader.child(path, key);
        Object value = map.get(key);
        if (!(value instanceof List<?>)) {
            Optional<String> name = reader.nonEmptyString(keyPath, value);
            return name.isEmpty() || name.get().equals(ALL) ? List.of() : List.of(name.get());
        }
        List<Object> items = reader.list(keyPath, value, "", "").orElse(List.of());
        if (items.isEmpty()) {
            reader.problem(keyPath, "is an empty list, which matches nothing; name at least one, or write all");
            return List.of();
        }
        List<String> names = new ArrayList<>();
        boolean all = false;
        for (int i = 0; i < items.size(); i++) {
            Optional<String> name = reader.nonEmptyString(keyPath + "[" + i + "]", items.get(i));
            if (name.isPresent()) {
                all |= name.get().equals(ALL);
                names.add(name.get());
            }
        }
        return all ? List.of() : names;
    }

    private Optional<AddressRange> address(String path, Object value) {
        Optional<String> text = reader.nonEmptyString(path, value);
        if (text.isEmpty() || text.get().equals(ALL)) {
            return Optional.empty();
        }
        String spelled = text.get().trim();
        String expected = "; expected all, an address (10.1.2.3, ::1) or a CIDR block (10.0.0.0/8, fd00::/8)";
        int slash = spelled.indexOf('/');
        String host = slash < 0 ? spelled : spelled.substring(0, slash);
        boolean v4 = IPV4.matcher(host).matches();
        if (!v4 && !IPV6.matcher(host).matches()) {
            reader.problem(path, "'" + spelled + "' is not an IP address" + expected);
            return Optional.empty();
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            reader.problem(path, "'" + spelled + "' is not an IP address" + expected);
            return Optional.empty();
        }
        int bits = address.getAddress().length * 8;
        if (slash < 0) {
            return Optional.of(new AddressRange(address, bits));
        }
        String prefix = spelled.substring(slash + 1);
        if (!PREFIX.matcher(prefix).matches() || Integer.parseInt(prefix) > bits) {
            reader.problem(path, "'" + spelled + "' has an invalid prefix length; after the / comes 0 to " + bits
                    + " for an " + (bits == 32 ? "IPv4" : "IPv6") + " address");
            return Optional.empty();
        }
        return Optional.of(new AddressRange(address, Integer.parseInt(prefix)));
    }

    private static Map<String, AccessRule.Method> spellings(AccessRule.Method[] values) {
        Map<String, AccessRule.Method> map = new LinkedHashMap<>();
        Arrays.stream(values).forEach(method -> map.put(method.yamlName(), method));
        return map;
    }
}
