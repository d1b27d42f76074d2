package io.pgwarden.cluster;

import io.pgwarden.backend.BackendOpener;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.metrics.EventLog;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The {@link Cluster} of each database entry in use, made with its first pool. */
public final class Clusters {

    private final BackendOpener servers;
    private final EventLog events;
    private final ConcurrentMap<String, ClusterOpener> openers = new ConcurrentHashMap<>();

    public Clusters(BackendOpener servers, EventLog events) {
        this.servers = servers;
        this.events = events;
    }

    /** How the pools of {@code database} open backends: on its target host. */
    public ClusterOpener openerFor(DatabaseConfig database) {
        return openers.computeIfAbsent(database.name(),
                name -> new ClusterOpener(servers, new Cluster(name, database.cluster(), events)));
    }

    /** RELOAD: the database's hosts or target_session_attrs may have changed. */
    public void update(DatabaseConfig database) {
        ClusterOpener opener = openers.get(database.name());
        if (opener != null) {
            opener.cluster().update(database.cluster());
        }
    }

    public Optional<Cluster> of(String database) {
        return Optional.ofNullable(openers.get(database)).map(ClusterOpener::cluster);
    }

    public Collection<Cluster> all() {
        return openers.values().stream().map(ClusterOpener::cluster).toList();
    }

    /** A pool of the "*" entry was forgotten with its database: so is its cluster. */
    public void forget(String database) {
        ClusterOpener gone = openers.remove(database);
        if (gone != null) {
            gone.stop();
        }
    }

    /** pgwarden stops: no more background probes. */
    public void stopAll() {
        openers.values().forEach(ClusterOpener::stop);
    }
}
