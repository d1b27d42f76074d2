package io.pgwarden.backend;

import io.pgwarden.protocol.ParameterStatus;
import java.util.concurrent.CompletableFuture;

/**
 * A backend's server role as PostgreSQL keeps reporting it after login: {@code in_hot_standby} turns off on
 * every session of a promoted standby, and {@code default_transaction_read_only} changes at a session's next
 * query after a reload. Whoever opened the backend for a cluster watches the changes; a backend whose role no
 * longer fits, or whose server was found not to, is retired: closed instead of going back to the pool.
 */
public final class LiveRole {

    /** Told on the backend's event loop, before the message that reported the change goes on. */
    public interface Watcher {
        void changed(BackendConnection backend, ServerRole now);
    }

    private volatile ServerRole current;
    private volatile Watcher watcher;
    private volatile boolean writesExpected;
    private volatile HostEpoch epoch;
    private int epochAtLogin;
    private volatile String retiredBecause;
    private volatile CompletableFuture<Boolean> demotion;

    /**
     * Starts watching a backend that logged in as {@code atLogin}; {@code writesExpected} when its database
     * wants a server that takes writes, so that a read-only error from it may mean the server was demoted.
     */
    public void watch(ServerRole atLogin, boolean writesExpected, HostEpoch epoch, Watcher watcher) {
        this.current = atLogin;
        this.writesExpected = writesExpected;
        // Before the volatile write that publishes it: a reader that sees the epoch sees this too.
        this.epochAtLogin = epoch.value();
        this.epoch = epoch;
        this.watcher = watcher;
    }

    /** The role last reported, or null when nobody watches. */
    public ServerRole current() {
        return current;
    }

    /** Its database asks for a writable server and it was one at login. */
    public boolean writesExpected() {
        return writesExpected;
    }

    /** A ParameterStatus from the backend; cheap for every name but the two that make the role. */
    void onParameterStatus(BackendConnection backend, ParameterStatus.Entry entry) {
        ServerRole was = current;
        Watcher w = watcher;
        if (was == null || w == null) {
            return;
        }
        ServerRole now;
        if (entry.name().equals(ServerRole.HOT_STANDBY)) {
            now = new ServerRole("on".equals(entry.value()), was.readOnly());
        } else if (entry.name().equals(ServerRole.READ_ONLY)) {
            now = new ServerRole(was.hotStandby(), "on".equals(entry.value()));
        } else {
            return;
        }
        if (!now.equals(was)) {
            current = now;
            w.changed(backend, now);
        }
    }

    /** Someone watches: the ParameterStatus is worth decoding. */
    boolean watched() {
        return watcher != null;
    }

    /** Closed when its holder is done with it, never handed out again. */
    public void retire(String why) {
        if (retiredBecause == null) {
            retiredBecause = why;
        }
    }

    /** The fresh login found the server unchanged: the change was this session's own, and the backend serves on. */
    public void keep() {
        retiredBecause = null;
    }

    /** Why this backend must not go back to the pool, or null. */
    public String retiredBecause() {
        String own = retiredBecause;
        if (own != null) {
            return own;
        }
        HostEpoch e = epoch;
        return e != null && e.value() != epochAtLogin ? e.why() : null;
    }

    /**
     * Its role stopped fitting: {@code verdict} completes true once a fresh login confirmed the server no
     * longer fits (its other backends are retired too), false when the change was this session's own.
     */
    public void suspectDemotion(CompletableFuture<Boolean> verdict) {
        demotion = verdict;
    }

    /** Null unless the role reported on this backend stopped fitting. */
    public CompletableFuture<Boolean> demotion() {
        return demotion;
    }
}
