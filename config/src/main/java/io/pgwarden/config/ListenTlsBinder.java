package io.pgwarden.config;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads {@code listen.tls}; only whether the files are named is checked here, the proxy reads them. */
final class ListenTlsBinder {
    static final String KEY = "tls";
    private static final String PATH = "listen.tls";
    private static final List<String> KEYS = List.of("mode", "cert_file", "key_file", "ca_file", "client_cert",
            "provider");

    private final ConfigReader reader;

    ListenTlsBinder(ConfigReader reader) {
        this.reader = reader;
    }

    ListenTls bind(Object value) {
        Map<String, Object> map = reader.mapping(PATH, value).orElse(Map.of());
        reader.rejectUnknownKeys(PATH, map, KEYS);
        int before = reader.problemCount();
        ListenTls.Mode mode = reader.read(PATH, map, "mode", ListenTls.Mode.DISABLE,
                (p, v) -> reader.choice(p, v, spellings(ListenTls.Mode.values())));
        String certFile = reader.read(PATH, map, "cert_file", null, reader::nonEmptyString);
        String keyFile = reader.read(PATH, map, "key_file", null, reader::nonEmptyString);
        String caFile = reader.read(PATH, map, "ca_file", null, reader::nonEmptyString);
        ListenTls.ClientCert clientCert = reader.read(PATH, map, "client_cert", ListenTls.ClientCert.NONE,
                (p, v) -> reader.choice(p, v, spellings(ListenTls.ClientCert.values())));
        ListenTls.Provider provider = reader.read(PATH, map, "provider", ListenTls.Provider.OPENSSL,
                (p, v) -> reader.choice(p, v, spellings(ListenTls.Provider.values())));
        if (reader.problemCount() > before) {
            return ListenTls.disabled();
        }
        if (mode != ListenTls.Mode.DISABLE) {
            String modeName = mode.name().toLowerCase();
            if (certFile == null) {
                reader.problem(ConfigReader.child(PATH, "cert_file"), "is required when listen.tls.mode is "
                        + modeName + "; name the PEM file holding the server certificate (and its chain)");
            }
            if (keyFile == null) {
                reader.problem(ConfigReader.child(PATH, "key_file"), "is required when listen.tls.mode is "
                        + modeName + "; name the PEM file holding the certificate's private key");
            }
        }
        if (clientCert == ListenTls.ClientCert.VERIFY && caFile == null) {
            reader.problem(ConfigReader.child(PATH, "ca_file"), "is required with client_cert: verify; name the PEM "
                    + "file of the CAs that client certificates must chain to");
        }
        if (reader.problemCount() > before) {
            return ListenTls.disabled();
        }
        return new ListenTls(mode, mode == ListenTls.Mode.DISABLE ? null : certFile,
                mode == ListenTls.Mode.DISABLE ? null : keyFile, caFile, clientCert, provider);
    }

    private static <E extends Enum<E>> Map<String, E> spellings(E[] values) {
        Map<String, E> map = new LinkedHashMap<>();
        Arrays.stream(values).forEach(v -> map.put(v.name().toLowerCase(), v));
        return map;
    }
}
