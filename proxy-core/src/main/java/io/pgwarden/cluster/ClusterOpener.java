package io.pgwarden.cluster;

import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.backend.BackendOpener;
import io.pgwarden.backend.LossReason;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.config.HostPort;
import io.pgwarden.config.TargetSessionAttrs;
import io.pgwarden.protocol.ErrorResponse;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Opens a pool's backends on its database's target host, and when that host is gone or no longer fits
 * {@code target_session_attrs}, searches the listed hosts in order (one search per database at a time, each
 * host tried once per search) for one that does. A search that finds none fails the open, so the pool retries
 * with its backoff while clients wait.
 */
public final class ClusterOpener implements BackendOpener {

    private final BackendOpener servers;
    private final Cluster cluster;
    private final HostProbes probes;
    /** Tests only: ask every server its role, as if none reported it, to run the path old servers take. */
    private final boolean askRole;

    public ClusterOpener(BackendOpener servers, Cluster cluster) {
        this(servers, cluster, false);
    }

    ClusterOpener(BackendOpener servers, Cluster cluster, boolean askRole) {
        this.servers = servers;
        this.cluster = cluster;
        this.askRole = askRole;
        this.probes = new HostProbes(servers, cluster, askRole);
    }

    /** The database is forgotten, or pgwarden stops: its background role probes end. */
    public void stop() {
        probes.stop();
    }

    public Cluster cluster() {
        return cluster;
    }

    @Override
    public Optional<String> whyNotUnasked(BackendConnector.Target target) {
        return servers.whyNotUnasked(target);
    }

    @Override
    public CompletableFuture<BackendConnection> connect(EventLoop loop, BackendConnector.Target target) {
        probes.remember(loop, target);
        HostPort current = cluster.target();
        if (current == null) {
            return search(loop, target, null);
        }
        return attempt(loop, target, current).thenCompose(attempt -> {
            if (attempt.backend() != null) {
                return CompletableFuture.completedFuture(attempt.backend());
            }
            if (attempt.permanent()) {
                return CompletableFuture.failedFuture(attempt.failure());
            }
            cluster.lost(current, attempt.why());
            return search(loop, target, current);
        });
    }

    /** Runs a search, or waits for the one running and then logs in where it ended. */
    private CompletableFuture<BackendConnection> search(EventLoop loop, BackendConnector.Target target,
                                                        HostPort failed) {
        if (!cluster.settings().severalHosts()) {
            // One server leaves nothing to choose: its opens run side by side, as a min_size fill needs.
            CompletableFuture<BackendConnection> result = new CompletableFuture<>();
            tryNext(loop, target, cluster.searchOrder(failed).iterator(), null, null, result);
            return result;
        }
        CompletableFuture<HostPort> running = cluster.joinSearch();
        if (running != null) {
            return running.thenCompose(host -> attempt(loop, target, host)).thenCompose(attempt ->
                    attempt.backend() != null ? CompletableFuture.completedFuture(attempt.backend())
                            : CompletableFuture.failedFuture(attempt.failure()));
        }
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        tryNext(loop, target, cluster.searchOrder(failed).iterator(), null, null, result);
        return result;
    }

    /**
     * One step of a search. {@code fallback} is a logged-in backend kept while prefer-standby still looks for a
     * standby: a primary is taken only when no standby answers.
     */
    private void tryNext(EventLoop loop, BackendConnector.Target target, Iterator<HostPort> order, Attempt fallback,
                         Attempt last, CompletableFuture<BackendConnection> result) {
        if (!order.hasNext()) {
            if (fallback != null) {
                end(fallback, result);
            } else {
                // One server's own error says it all, as it did before hosts could be several.
                BackendLoginException failure = !cluster.settings().severalHosts() && last != null
                        ? last.failure() : noHostFits();
                cluster.notFound(failure);
                result.completeExceptionally(failure);
            }
            return;
        }
        attempt(loop, target, order.next()).whenComplete((attempt, unexpected) -> {
            if (unexpected != null) {
                closeFallback(fallback);
                cluster.notFound(unexpected);
                result.completeExceptionally(unexpected);
            } else if (attempt.backend() != null && (!preferStandby() || attempt.role().hotStandby())) {
                closeFallback(fallback);
                confirmAlone(loop, target, attempt, cluster.otherWriters(attempt.host()).iterator(), result);
            } else if (attempt.permanent()) {
                // A wrong password or a missing database is no reason to try elsewhere: it would be the same there.
                closeFallback(fallback);
                cluster.notFound(attempt.failure());
                result.completeExceptionally(attempt.failure());
            } else if (attempt.backend() != null && fallback == null) {
                tryNext(loop, target, order, attempt, attempt, result);
            } else {
                if (attempt.backend() != null) {
                    attempt.backend().close(LossReason.CLOSED_BY_PGWARDEN, "a standby is preferred");
                }
                tryNext(loop, target, order, fallback, attempt, result);
            }
        });
    }

    /**
     * Split brain: a search does not adopt a host that accepts writes while another listed host was last seen
     * accepting them too, until a fresh login to that one says otherwise. With no target to prefer, neither is safe
     * (a write to the wrong one is lost when the operator picks the other), so both are refused and clients are held
     * until the operator stops or demotes one, or removes it from hosts and RELOADs. The listed order decides nothing.
     */
    private void confirmAlone(EventLoop loop, BackendConnector.Target target, Attempt chosen,
                              Iterator<HostPort> suspects, CompletableFuture<BackendConnection> result) {
        if (!suspects.hasNext()) {
            end(chosen, result);
            return;
        }
        HostPort suspect = suspects.next();
        attempt(loop, target, suspect).whenComplete((other, unexpected) -> {
            if (other != null && other.backend() != null) {
                other.backend().close(LossReason.CLOSED_BY_PGWARDEN, "split brain: not used for writes");
                chosen.backend().close(LossReason.CLOSED_BY_PGWARDEN, "split brain: not used for writes");
                cluster.splitBrainInSearch(java.util.List.of(chosen.host(), suspect));
                BackendLoginException failure = new BackendLoginException(ErrorResponse.fatal("08001",
                        "split brain in database " + cluster.database() + ": " + chosen.host() + " and " + suspect
                                + " both accept writes; pgwarden uses neither until only one does"), false);
                cluster.notFound(failure);
                result.completeExceptionally(failure);
            } else {
                confirmAlone(loop, target, chosen, suspects, result);
            }
        });
    }

    private void end(Attempt chosen, CompletableFuture<BackendConnection> result) {
        cluster.found(chosen.host());
        result.complete(chosen.backend());
    }

    private static void closeFallback(Attempt fallback) {
        if (fallback != null) {
            fallback.backend().close(LossReason.CLOSED_BY_PGWARDEN, "a better host was found");
        }
    }

    private boolean preferStandby() {
        return cluster.settings().targetSessionAttrs() == TargetSessionAttrs.PREFER_STANDBY;
    }

    /** One login to one host, judged by target_session_attrs; never completes exceptionally for a failed login. */
    private CompletableFuture<Attempt> attempt(EventLoop loop, BackendConnector.Target target, HostPort host) {
        TargetSessionAttrs attrs = cluster.settings().targetSessionAttrs();
        long started = System.nanoTime();
        return servers.connect(loop, target.at(host.host(), host.port())).handle((backend, error) -> {
            if (error != null) {
                return CompletableFuture.completedFuture(failed(host, error));
            }
            if (attrs == TargetSessionAttrs.ANY && RoleQuery.reported(backend, askRole).isEmpty()) {
                // Any server will do, as libpq's "any" takes one without asking what it is.
                return CompletableFuture.completedFuture(new Attempt(host, backend, null, null, null));
            }
            return RoleQuery.learn(backend, target.server(), started, askRole).handle((role, unknown) ->
                    unknown != null ? failed(host, unknown) : judge(target, host, backend, role, attrs));
        }).thenCompose(attempt -> attempt);
    }

    private Attempt failed(HostPort host, Throwable error) {
        BackendLoginException failure = asLoginFailure(error);
        cluster.noteError(host, failure.error().message());
        return Attempt.failed(host, failure);
    }

    private Attempt judge(BackendConnector.Target target, HostPort host, BackendConnection backend, ServerRole role,
                          TargetSessionAttrs attrs) {
        cluster.noteRole(host, role);
        backend.setRoleAtLogin(role);
        if (!role.matches(attrs)) {
            String why = role.mismatch(attrs);
            backend.close(LossReason.CLOSED_BY_PGWARDEN, "server " + why);
            cluster.noteError(host, why);
            cluster.unfit(host, why);
            return Attempt.mismatch(host, why);
        }
        backend.liveRole().watch(role, attrs == TargetSessionAttrs.READ_WRITE, cluster.epoch(host),
                (b, now) -> roleChanged(target, host, b, now));
        return new Attempt(host, backend, role, null, null);
    }

    /**
     * An established backend reports a new role. One that still fits only updates what SHOW tells; one that no
     * longer does is retired, and a fresh login to its server decides whether the server changed (a promotion,
     * a fence) or only this session did ({@code SET default_transaction_read_only}, which is the client's own).
     */
    private void roleChanged(BackendConnector.Target target, HostPort host, BackendConnection backend,
                             ServerRole now) {
        TargetSessionAttrs attrs = cluster.settings().targetSessionAttrs();
        if (now.matches(attrs)) {
            cluster.noteRole(host, now);
            return;
        }
        backend.liveRole().retire("server became a " + now.describe() + ", not " + attrs.configName());
        CompletableFuture<Boolean> verdict = verify(backend.eventLoop(), target, host);
        backend.liveRole().suspectDemotion(verdict);
        verdict.thenAccept(demoted -> {
            if (!demoted) {
                backend.liveRole().keep();
            }
        });
    }

    /** Completes true when a fresh login to {@code host} finds it unfit or cannot log in, false when it fits. */
    private CompletableFuture<Boolean> verify(EventLoop loop, BackendConnector.Target target, HostPort host) {
        CompletableFuture<Boolean> verdict = new CompletableFuture<>();
        CompletableFuture<Boolean> running = cluster.joinVerification(host, verdict);
        if (running != null) {
            return running;
        }
        attempt(loop, target, host).whenComplete((attempt, unexpected) -> {
            if (attempt != null && attempt.backend() != null) {
                attempt.backend().close(LossReason.CLOSED_BY_PGWARDEN, "opened only to check the server's role");
                verdict.complete(false);
                return;
            }
            if (attempt == null || attempt.loginError() != null) {
                // Unreachable is unfit too; a role mismatch has already been marked by the attempt itself.
                cluster.unfit(host, attempt == null ? String.valueOf(unexpected) : attempt.why());
            }
            verdict.complete(true);
        });
        return verdict;
    }

    /** What a waiting client is told: each host with what answered there. */
    private BackendLoginException noHostFits() {
        return new BackendLoginException(ErrorResponse.fatal("08001", "no server of database "
                + cluster.database() + " matches target_session_attrs=" + cluster.settings().targetSessionAttrs()
                + ": " + cluster.describeHosts()), false);
    }

    private static BackendLoginException asLoginFailure(Throwable error) {
        Throwable cause = error instanceof CompletionException ? error.getCause() : error;
        return cause instanceof BackendLoginException e ? e
                : new BackendLoginException(ErrorResponse.fatal("08001", String.valueOf(cause)), false);
    }

    /** A login's outcome: a backend that fits, or why not ({@code failure} loginError set when the login itself failed). */
    private record Attempt(HostPort host, BackendConnection backend, ServerRole role, String why,
                           BackendLoginException loginError) {

        static Attempt failed(HostPort host, BackendLoginException failure) {
            return new Attempt(host, null, null, failure.error().message(), failure);
        }

        static Attempt mismatch(HostPort host, String why) {
            return new Attempt(host, null, null, why, null);
        }

        boolean permanent() {
            return loginError != null && loginError.permanent();
        }

        BackendLoginException failure() {
            return loginError != null ? loginError
                    : new BackendLoginException(ErrorResponse.fatal("08001", host + " " + why), false);
        }
    }
}
