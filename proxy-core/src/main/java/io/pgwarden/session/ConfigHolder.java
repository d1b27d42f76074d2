package io.pgwarden.session;

import io.pgwarden.config.ProxyConfig;
import java.util.concurrent.atomic.AtomicReference;

/** The current configuration snapshot, swapped whole by RELOAD so nobody sees half of an old and a new one. */
public final class ConfigHolder {

    private final AtomicReference<ProxyConfig> current;

    public ConfigHolder(ProxyConfig initial) {
        current = new AtomicReference<>(initial);
    }

    public ProxyConfig get() {
        return current.get();
    }

    public void set(ProxyConfig next) {
        current.set(next);
    }
}
