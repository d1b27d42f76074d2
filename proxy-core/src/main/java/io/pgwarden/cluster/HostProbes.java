package io.pgwarden.cluster;

import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.backend.BackendOpener;
import io.pgwarden.backend.LossReason;
import io.pgwarden.config.HostPort;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Between failovers, logs in to each host that is not the target every {@code server.health_check_interval}
 * (one login per host at a time) and records its role in the {@link Cluster}: so that SHOW knows every host's
 * role, and a second host accepting writes while the target does (split brain) is seen before a failover would
 * have to choose between them. The login uses the credentials of the database's last backend open; nothing is
 * sent on it but the role query a server before PostgreSQL 14 needs ({@link RoleQuery}), and it is closed at once.
 */
final class HostProbes {

    private static final Logger log = LoggerFactory.getLogger(HostProbes.class);

    private final BackendOpener servers;
    private final Cluster cluster;
    private final Set<HostPort> running = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile BackendConnector.Target credentials;
    private volatile boolean stopped;
    private final boolean askRole;

    HostProbes(BackendOpener servers, Cluster cluster, boolean askRole) {
        this.servers = servers;
        this.cluster = cluster;
        this.askRole = askRole;
    }

    /** A pool opened a backend with {@code target}: probes log in as it did, from the first such open on. */
    void remember(EventLoop loop, BackendConnector.Target target) {
        // A replication client's own startup parameters would make the probe a walsender.
        if (target.startupParameters() != null && !target.startupParameters().isEmpty()) {
            return;
        }
        credentials = target;
        if (cluster.settings().severalHosts() && started.compareAndSet(false, true)) {
            scheduleNext(loop);
        }
    }

    void stop() {
        stopped = true;
    }

    private void scheduleNext(EventLoop loop) {
        if (stopped || loop.isShuttingDown()) {
            return;
        }
        Duration interval = credentials.server().healthCheckInterval();
        long millis = interval.isZero() ? 1_000 : Math.max(50, interval.toMillis());
        loop.schedule(() -> {
            try {
                if (!interval.isZero()) {
                    probeOthers(loop);
                }
            } catch (RuntimeException e) {
                log.warn("database {}: host probe failed", cluster.database(), e);
            } finally {
                scheduleNext(loop);
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    private void probeOthers(EventLoop loop) {
        BackendConnector.Target login = credentials;
        HostPort target = cluster.target();
        // During a search the search's own logins say what each host is; SCRAM pass-through cannot log in unasked.
        if (target == null || !cluster.settings().severalHosts() || servers.whyNotUnasked(login).isPresent()) {
            return;
        }
        for (HostPort host : cluster.settings().hosts()) {
            if (host.equals(target) || !running.add(host)) {
                continue;
            }
            long started = System.nanoTime();
            servers.connect(loop, login.at(host.host(), host.port()).asProbe())
                    .thenCompose(backend -> RoleQuery.learn(backend, login.server(), started, askRole)
                            .whenComplete((role, unknown) ->
                                    backend.close(LossReason.CLOSED_BY_PGWARDEN, "role probe done")))
                    .whenComplete((role, error) -> {
                        running.remove(host);
                        if (error != null) {
                            cluster.noteError(host, messageOf(error));
                        } else {
                            cluster.noteRole(host, role);
                        }
                    });
        }
    }

    private static String messageOf(Throwable error) {
        Throwable cause = error instanceof CompletionException ? error.getCause() : error;
        return cause instanceof BackendLoginException e ? e.error().message() : String.valueOf(cause);
    }
}
