package io.pgwarden.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * libpq's {@code target_session_attrs}: which of a database's hosts its backends may log in to, judged by the
 * server's {@code in_hot_standby} and {@code default_transaction_read_only} as libpq judges them.
 */
public enum TargetSessionAttrs {
    ANY("any"),
    READ_WRITE("read-write"),
    READ_ONLY("read-only"),
    PRIMARY("primary"),
    STANDBY("standby"),
    PREFER_STANDBY("prefer-standby");

    private final String configName;

    TargetSessionAttrs(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** Whether a host that accepts writes is what this asks for; only then can two such hosts conflict. */
    public boolean wantsWrites() {
        return this == READ_WRITE || this == PRIMARY;
    }

    static Map<String, TargetSessionAttrs> byConfigName() {
        Map<String, TargetSessionAttrs> names = new LinkedHashMap<>();
        for (TargetSessionAttrs attrs : values()) {
            names.put(attrs.configName, attrs);
        }
        return names;
    }

    @Override
    public String toString() {
        return configName;
    }
}
