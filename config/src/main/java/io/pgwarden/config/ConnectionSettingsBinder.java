package io.pgwarden.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Binds the {@code server:} and {@code client:} sections. Every read falls back to the inherited value, so a
 * database's section overrides the defaults' key by key, nested {@code keepalive:} and {@code tls:} included.
 */
final class ConnectionSettingsBinder {
    static final String SERVER = "server";
    static final String CLIENT = "client";

    private static final List<String> SERVER_KEYS = List.of("keepalive", "tcp_user_timeout", "check_query",
            "check_delay", "check_timeout", "health_check_interval", "lifetime", "idle_timeout", "connect_timeout", "replay_check_after",
            "allow_cleartext_password", "allow_md5_password", "tls");
    private static final List<String> CLIENT_KEYS = List.of("keepalive", "idle_timeout", "idle_in_transaction_timeout",
            "idle_in_transaction_warning", "login_timeout", "leak_after");
    private static final List<String> KEEPALIVE_KEYS = List.of("idle", "interval", "count");
    private static final List<String> TLS_KEYS = List.of("mode", "ca_file", "cert_file", "key_file", "server_name",
            "provider");
    private static final Map<String, ServerTlsMode> TLS_MODES = ServerTlsMode.bySpelling();
    private static final Map<String, ServerTlsSettings.Provider> TLS_PROVIDERS = new LinkedHashMap<>();

    static {
        TLS_PROVIDERS.put("jdk", ServerTlsSettings.Provider.JDK);
        TLS_PROVIDERS.put("openssl", ServerTlsSettings.Provider.OPENSSL);
    }

    private final ConfigReader reader;

    ConnectionSettingsBinder(ConfigReader reader) {
        this.reader = reader;
    }

    /** @param parent the path holding the section, e.g. {@code defaults} or {@code databases.appdb} */
    ServerSettings server(String parent, Map<String, Object> parentMap, ServerSettings inherited) {
        String path = ConfigReader.child(parent, SERVER);
        Map<String, Object> map = section(path, parentMap.get(SERVER), SERVER_KEYS);
        return new ServerSettings(
                keepalive(path, map, inherited.keepalive()),
                reader.read(path, map, "tcp_user_timeout", inherited.tcpUserTimeout(), reader::durationOrZero),
                reader.read(path, map, "check_query", inherited.checkQuery(), reader::string),
                reader.read(path, map, "check_delay", inherited.checkDelay(), reader::durationOrZero),
                reader.read(path, map, "check_timeout", inherited.checkTimeout(), reader::positiveDuration),
                reader.read(path, map, "health_check_interval", inherited.healthCheckInterval(),
                        (p, v) -> reader.positiveDuration(p, v, "the interval")),
                reader.read(path, map, "lifetime", inherited.lifetime(), reader::durationOrZero),
                reader.read(path, map, "idle_timeout", inherited.idleTimeout(), reader::durationOrZero),
                reader.read(path, map, "connect_timeout", inherited.connectTimeout(), reader::positiveDuration),
                reader.read(path, map, "replay_check_after", inherited.replayCheckAfter(), reader::durationOrZero),
                reader.read(path, map, "allow_cleartext_password", inherited.cleartextPassword(),
                        (p, v) -> reader.bool(p, v).map(CleartextPasswordRule::of)),
                reader.read(path, map, "allow_md5_password", inherited.allowMd5Password(), reader::bool),
                tls(path, map, inherited.tls()));
    }

    private ServerTlsSettings tls(String parent, Map<String, Object> parentMap, ServerTlsSettings inherited) {
        String path = ConfigReader.child(parent, "tls");
        Map<String, Object> map = section(path, parentMap.get("tls"), TLS_KEYS);
        ServerTlsMode mode = reader.read(path, map, "mode", inherited.mode(), (p, v) -> reader.choice(p, v, TLS_MODES));
        Path caFile = reader.read(path, map, "ca_file", inherited.caFile(), this::readableFile);
        Path certFile = reader.read(path, map, "cert_file", inherited.certFile(), this::readableFile);
        Path keyFile = reader.read(path, map, "key_file", inherited.keyFile(), this::readableFile);
        String serverName = reader.read(path, map, "server_name", inherited.serverName(), reader::nonEmptyString);
        ServerTlsSettings.Provider provider = reader.read(path, map, "provider", inherited.provider(),
                (p, v) -> reader.choice(p, v, TLS_PROVIDERS));
        // A certificate without its key (or the reverse) cannot be shown to the server; both keys are named, since
        // either may be the one left out or inherited from the defaults.
        if ((certFile == null) != (keyFile == null)) {
            String missing = certFile == null ? "cert_file" : "key_file";
            String given = certFile == null ? "key_file" : "cert_file";
            reader.problem(ConfigReader.child(path, missing), "is missing; " + ConfigReader.child(path, given)
                    + " is set, and a client certificate needs both its certificate and its key");
            certFile = null;
            keyFile = null;
        }
        return new ServerTlsSettings(mode, caFile, certFile, keyFile, serverName, provider);
    }

    /** Checked now, so a typo in a path is reported with its key and not as a failed connect later. */
    private Optional<Path> readableFile(String path, Object value) {
        Optional<String> name = reader.nonEmptyString(path, value);
        if (name.isEmpty()) {
            return Optional.empty();
        }
        Path file;
        try {
            file = Path.of(name.get());
        } catch (InvalidPathException e) {
            reader.problem(path, "'" + name.get() + "' is not a valid file name");
            return Optional.empty();
        }
        if (!Files.isRegularFile(file)) {
            reader.problem(path, "file '" + file + "' does not exist or is not a regular file");
            return Optional.empty();
        }
        if (!Files.isReadable(file)) {
            reader.problem(path, "file '" + file + "' is not readable");
            return Optional.empty();
        }
        return Optional.of(file);
    }

    ClientSettings client(String parent, Map<String, Object> parentMap, ClientSettings inherited) {
        String path = ConfigReader.child(parent, CLIENT);
        Map<String, Object> map = section(path, parentMap.get(CLIENT), CLIENT_KEYS);
        return new ClientSettings(
                keepalive(path, map, inherited.keepalive()),
                reader.read(path, map, "idle_timeout", inherited.idleTimeout(), reader::durationOrZero),
                reader.read(path, map, "idle_in_transaction_timeout", inherited.idleInTransactionTimeout(),
                        reader::durationOrZero),
                reader.read(path, map, "idle_in_transaction_warning", inherited.idleInTransactionWarning(),
                        reader::durationOrZero),
                reader.read(path, map, "login_timeout", inherited.loginTimeout(), reader::positiveDuration),
                reader.read(path, map, "leak_after", inherited.leakAfter(), reader::durationOrZero));
    }

    private Keepalive keepalive(String parent, Map<String, Object> parentMap, Keepalive inherited) {
        String path = ConfigReader.child(parent, "keepalive");
        Map<String, Object> map = section(path, parentMap.get("keepalive"), KEEPALIVE_KEYS);
        return new Keepalive(
                reader.read(path, map, "idle", inherited.idle(),
                        (p, v) -> reader.positiveDuration(p, v, "the idle time")),
                reader.read(path, map, "interval", inherited.interval(),
                        (p, v) -> reader.positiveDuration(p, v, "the interval")),
                reader.read(path, map, "count", inherited.count(),
                        (p, v) -> reader.integer(p, v, 1, Integer.MAX_VALUE)));
    }

    /** An absent or broken section reads as empty, so everything in it is inherited and only the break is reported. */
    private Map<String, Object> section(String path, Object value, List<String> keys) {
        Map<String, Object> map = reader.mapping(path, value).orElse(Map.of());
        reader.rejectUnknownKeys(path, map, keys);
        return map;
    }
}
