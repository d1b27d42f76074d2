package io.pgwarden;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.EventExecutor;
import io.pgwarden.admin.AdminConsole;
import io.pgwarden.admin.AdminControl;
import io.pgwarden.auth.LookupOutcome;
import io.pgwarden.auth.UserLookup;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.CancelForwarder;
import io.pgwarden.backend.LossCounters;
import io.pgwarden.config.ConfigException;
import io.pgwarden.config.HttpConfig;
import io.pgwarden.config.ListenConfig;
import io.pgwarden.config.ListenTransport;
import io.pgwarden.config.ListenTls;
import io.pgwarden.config.LoginThrottleConfig;
import io.pgwarden.config.Peers;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.frontend.Credentials;
import io.pgwarden.frontend.FrontendContext;
import io.pgwarden.frontend.PreLoginErrorLog;
import io.pgwarden.log.LogValues;
import io.pgwarden.metrics.HttpEndpoints;
import io.pgwarden.metrics.HttpLimits;
import io.pgwarden.metrics.PoolView;
import io.pgwarden.metrics.ProxyMetrics;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolKey;
import io.pgwarden.pool.PoolRegistry;
import io.pgwarden.pool.PoolUsers;
import io.pgwarden.protocol.auth.PassThroughKeys;
import io.pgwarden.server.HandoverReceiver;
import io.pgwarden.server.ProxyServer;
import io.pgwarden.tls.ListenerTls;
import io.pgwarden.net.FatalErrorGuard;
import io.pgwarden.net.Transport;
import io.pgwarden.session.CancelRegistry;
import io.pgwarden.session.ConfigHolder;
import io.pgwarden.metrics.EventLog;
import io.pgwarden.session.ProxyContext;
import io.pgwarden.session.SessionRegistry;
import io.pgwarden.session.StatementNames;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Composition root: builds every part of the proxy from one configuration, reloads it, and tears it down. */
public final class ProxyApplication implements AutoCloseable, AdminControl {

    private static final Logger log = LoggerFactory.getLogger(ProxyApplication.class);
    /** PostgreSQL's own limit for a single message is 1 GB. */
    private static final int MAX_MESSAGE_LENGTH = 1 << 30;
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);
    /** Client timeouts are checked this often (each event loop scans its own clients). */
    private static final long JANITOR_PERIOD_MILLIS = 100;
    /** The running process answers a handover at once; a hung one must not hold the new one's start for long. */
    private static final Duration HANDOVER_TIMEOUT = Duration.ofSeconds(10);

    /** Where a reload reads the configuration from (the file given at start, in production). */
    @FunctionalInterface
    public interface ConfigSource {
        ProxyConfig load() throws ConfigException;
    }

    private final EventLoopGroup loops;
    private final PoolRegistry pools;
    private final ProxyServer server;
    private final InetSocketAddress address;
    private final ProxyContext context;
    private final ConfigSource source;
    private final ListenerTls tls;
    private final UserLookup lookups;
    private final List<ScheduledFuture<?>> janitors = new ArrayList<>();
    private volatile Transport transport;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Set first in any stop: /ready answers 503 from then on. */
    private final AtomicBoolean stopping = new AtomicBoolean();
    private HttpEndpoints http;

    private ProxyApplication(EventLoopGroup loops, PoolRegistry pools, ProxyServer server, InetSocketAddress address,
                             ProxyContext context, ConfigSource source, ListenerTls tls, UserLookup lookups) {
        this.tls = tls;
        this.lookups = lookups;
        this.loops = loops;
        this.pools = pools;
        this.server = server;
        this.address = address;
        this.context = context;
        this.source = source;
    }

    /** @throws ConfigException when a file the configuration names (a TLS certificate) cannot be used */
    public static ProxyApplication start(ProxyConfig config)
            throws InterruptedException, IOException, ConfigException {
        return start(config, () -> config);
    }

    public static ProxyApplication start(ProxyConfig config, ConfigSource source)
            throws InterruptedException, IOException, ConfigException {
        return start(config, source, FatalErrorGuard.haltingTheJvm());
    }

    /** {@code fatal}: what ends the process when a pipeline sees an OutOfMemoryError. */
    public static ProxyApplication start(ProxyConfig config, ConfigSource source, FatalErrorGuard fatal)
            throws InterruptedException, IOException, ConfigException {
        // Read before anything starts: a certificate that cannot be used is a configuration error.
        ListenerTls tls = ListenerTls.load(config.listen().tls());
        String handoverPath = config.listen().handoverSocket();
        // A handover adopts a descriptor, which only epoll can: auto means epoll then (the config refuses io_uring
        // and nio with it).
        Transport transport = Transport.of(handoverPath != null && config.listen().transport() == ListenTransport.AUTO
                ? ListenTransport.EPOLL : config.listen().transport());
        if (config.listen().reusePort() && !transport.nativeTransport()) {
            throw new ConfigException("for this machine", List.of("listen.reuse_port: true needs the io_uring or"
                    + " epoll transport, and listen.transport " + config.listen().transport().yamlName()
                    + " came to " + transport.name() + " here (see event=transport_fallback in the log)"));
        }
        EventLoopGroup loops = transport.newEventLoopGroup(
                config.listen().workerThreads(Runtime.getRuntime().availableProcessors()), "pgwarden");
        try {
            EventLog events = new EventLog(1_000);
            LossCounters losses = new LossCounters();
            // Clients' logins leave the ClientKeys in it that backend logins by SCRAM pass-through need.
            PassThroughKeys passThroughKeys = new PassThroughKeys();
            BackendConnector connector = new BackendConnector(transport, MAX_MESSAGE_LENGTH, WATER_MARK, losses,
                    (pool, detail) -> events.add(pool, "backend_lost", detail), fatal, passThroughKeys);
            SessionRegistry sessions = new SessionRegistry();
            AtomicReference<AdminConsole> console = new AtomicReference<>();
            // The metrics read the pools through the context, which needs the metrics: tie the knot lazily.
            AtomicReference<ProxyContext> built = new AtomicReference<>();
            ProxyMetrics metrics = new ProxyMetrics(() -> built.get() == null ? List.of() : PoolViews.of(built.get()),
                    losses::snapshot);
            metrics.registerClusters(() -> built.get() == null ? List.of() : ClusterViews.of(built.get()));
            PoolRegistry pools = new PoolRegistry(connector, loops, events, metrics, new PoolUsers() {
                @Override
                public boolean hasClients(PoolKey pool) {
                    return sessions.hasClients(pool);
                }

                @Override
                public void forget(PoolKey pool) {
                    sessions.forget(pool);
                }
            });
            ProxyContext context = new ProxyContext(new ConfigHolder(config), pools,
                    new CancelRegistry(config.listen().peers()),
                    new CancelForwarder(transport), new StatementNames(config.listen().maxPreparedStatementBytes(),
                            config.listen().maxPreparedStatementBytesPerClient()), sessions, events, metrics);
            built.set(context);
            UserLookup lookups = new UserLookup(pools, metrics);
            ProxyServer server = new ProxyServer(transport, loops, new FrontendContext(context,
                    new Credentials(passThroughKeys), console::get, new AtomicInteger(), MAX_MESSAGE_LENGTH,
                    new PreLoginErrorLog(), tls, lookups), WATER_MARK, fatal);
            Optional<HandoverReceiver.Received> handedOver = handoverPath == null ? Optional.empty()
                    : HandoverReceiver.receive(loops, Path.of(handoverPath), HANDOVER_TIMEOUT);
            InetSocketAddress address = handedOver.isPresent()
                    ? adopt(server, handedOver.get(), config.listen())
                    : server.bind(config.listen().host(), config.listen().port(), config.listen().reusePort());
            Peers peers = config.listen().peers();
            if (peers.enabled()) {
                InetSocketAddress peerAddress = server.bindPeerCancels(peers.self().host(), peers.self().port());
                log.info("event=peer_listen addr={} peer_id={} peers={}", peerAddress, peers.selfId(),
                        peers.addresses().size());
            }
            ProxyApplication app = new ProxyApplication(loops, pools, server, address, context, source, tls,
                    lookups);
            app.transport = transport;
            console.set(new AdminConsole(context, app));
            pools.apply(config);

            app.startJanitors();
            if (config.admin().http() != null) {
                HttpConfig httpConfig = config.admin().http();
                app.http = HttpEndpoints.start(httpConfig.host(), httpConfig.port(), context.metrics(),
                        () -> PoolViews.probed(context), httpConfig.metricsToken(), HttpLimits.of(httpConfig),
                        app.stopping::get);
                log.info("event=http_listen addr={}", app.http.address());
            }
            if (handoverPath != null) {
                // Before the confirmation: the old process, stopping, removes the path only while it is still its own.
                // Once a next process has this one's socket, this one drains as on SIGTERM.
                server.offerHandover(Path.of(handoverPath), app::stopGracefully);
            }
            if (handedOver.isPresent()) {
                // Confirmed once everything above runs: the old process starts its drain at this byte.
                handedOver.get().confirm();
                log.info("event=handover_taken path={} from_pid={}", handoverPath, handedOver.get().fromPid());
            }
            log.info("event=listen addr={} transport={} reuse_port={} handover={} databases={} users={}", address,
                    transport.name(), config.listen().reusePort(), handedOver.isPresent() ? "taken" : "none",
                    config.databases().size(), config.users().size());
            return app;
        } catch (InterruptedException | IOException | RuntimeException e) {
            loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    private static InetSocketAddress adopt(ProxyServer server, HandoverReceiver.Received received,
                                           ListenConfig listen) throws InterruptedException, ConfigException {
        try {
            return server.adopt(received.listener(), listen.host(), listen.port());
        } catch (IllegalStateException e) {
            received.abandon();
            throw new ConfigException("for this machine", List.of("listen.handover_socket: " + e.getMessage()));
        }
    }

    private void startJanitors() {
        for (EventExecutor executor : loops) {
            EventLoop loop = (EventLoop) executor;
            janitors.add(loop.scheduleAtFixedRate(() -> context.sessions().tick(loop, System.nanoTime()),
                    JANITOR_PERIOD_MILLIS, JANITOR_PERIOD_MILLIS, TimeUnit.MILLISECONDS));
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    /** The HTTP endpoints' address, or null when admin.http is not configured. */
    public InetSocketAddress httpAddress() {
        return http == null ? null : http.address();
    }

    public PoolRegistry pools() {
        return pools;
    }

    public ProxyContext context() {
        return context;
    }

    /** What a login as {@code user} to {@code database} would find now (auth.query, through the cache). */
    public java.util.concurrent.CompletableFuture<LookupOutcome> lookUp(String database, String user) {
        return lookups.find(context.config(), database, user, (EventLoop) loops.next());
    }

    /** Re-reads the configuration; on any problem the running one stays and the problems are returned. */
    @Override
    public synchronized List<String> reload() {
        ProxyConfig next;
        ListenerTls.Prepared nextTls;
        try {
            next = source.load();
            // Re-read even when the paths are unchanged: rotation replaces the files in place.
            nextTls = ListenerTls.prepare(next.listen().tls());
        } catch (ConfigException e) {
            context.metrics().configReload(false);
            log.warn("event=config_reload result=rejected problems={}", e.problems().size());
            e.problems().forEach(p -> log.warn("event=config_problem detail={}", LogValues.quote(p)));
            return e.problems();
        }
        ListenTls none = ListenTls.disabled();
        LoginThrottleConfig throttle = LoginThrottleConfig.defaults();
        Duration timeout = next.listen().shutdownTimeout();
        if (!next.listen().withTls(none).withLoginThrottle(throttle).withShutdownTimeout(timeout)
                .equals(context.config().listen().withTls(none).withLoginThrottle(throttle)
                        .withShutdownTimeout(timeout))) {
            log.warn("event=config_reload note=\"listen changes other than listen.tls, listen.login_throttle and"
                    + " listen.shutdown_timeout need a restart; the old listener stays\"");
        }
        tls.install(nextTls);
        context.configHolder().set(next);
        pools.apply(next);
        context.metrics().configReload(true);
        context.events().add("*", "config_reload", "new configuration in force");
        log.info("event=config_reload result=ok databases={} users={}", next.databases().size(), next.users().size());
        return List.of();
    }

    @Override
    public String transportInUse() {
        return transport == null ? "" : transport.name();
    }

    /** SHUTDOWN from the console: answered first, then the graceful stop. */
    @Override
    public void shutdown() {
        stopGracefully();
    }

    /** SHUTDOWN IMMEDIATE from the console: answered first, then the process stops. */
    @Override
    public void shutdownImmediately() {
        stopNow();
    }

    /**
     * SIGTERM: the graceful stop ({@link GracefulStop}) for up to listen.shutdown_timeout, on a thread of its own,
     * then {@link #close()}. Asked again while it runs, the stop becomes immediate.
     */
    public void stopGracefully() {
        if (!stopping.compareAndSet(false, true)) {
            stopNow();
            return;
        }
        Thread drainer = new Thread(() -> {
            try {
                new GracefulStop(server, context.sessions().drain())
                        .run(context.config().listen().shutdownTimeout(), closing::get);
            } finally {
                close();
            }
        }, "pgwarden-drain");
        drainer.start();
    }

    /** SIGINT, a second SIGTERM: {@link #close()} at once, off the caller's thread (a console's event loop). */
    public void stopNow() {
        stopping.set(true);
        Thread stopper = new Thread(this::close, "pgwarden-shutdown");
        stopper.setDaemon(false);
        stopper.start();
    }

    /** Blocks until {@link #close()} has finished, whoever called it. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        stopping.set(true);
        janitors.forEach(j -> j.cancel(false));
        if (http != null) {
            http.close();
        }
        server.close();
        pools.closeAll("pgwarden shutting down");
        // Backends that clients were using close as their sessions end, maybe on another loop: wait for them too.
        if (transport != null && !transport.outbound().closeAll(5, TimeUnit.SECONDS)) {
            log.warn("event=stop_timeout detail=\"server connections still open after 5 s\"");
        }
        // Bounded: a stop must not hang on an event loop that failed to terminate.
        if (!loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS)) {
            log.warn("event=stop_timeout detail=\"event loops still running after 10 s\"");
        }
        log.info("event=stopped");
        stopped.countDown();
    }
}
