package io.pgwarden.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslHandler;
import io.pgwarden.config.Keepalive;
import io.pgwarden.config.ServerSettings;
import io.pgwarden.config.ServerTlsMode;
import io.pgwarden.log.LogValues;
import io.pgwarden.net.SocketOptions;
import io.pgwarden.net.Transport;
import io.pgwarden.net.WriteCoalescer;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.auth.PassThroughKeys;
import io.pgwarden.tls.ServerTls;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Opens and logs in backend connections, on the event loop it is given so a session and its backend can share one,
 * encrypted as {@code server.tls} says.
 */
public final class BackendConnector implements BackendOpener {

    private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);

    private final Transport transport;
    private final int maxMessageLength;
    private final WriteBufferWaterMark waterMark;
    private final AtomicLong ids = new AtomicLong();
    private final LossCounters losses;
    /** (pool, description) of each backend loss, for SHOW EVENTS. */
    private final java.util.function.BiConsumer<String, String> lossEvents;

    private final io.pgwarden.net.FatalErrorGuard fatal;
    private final ServerTls tls = new ServerTls();
    /** ClientKeys that clients' logins left behind, for SCRAM pass-through where only a verifier is configured. */
    private final PassThroughKeys passThroughKeys;

    public BackendConnector(Transport transport, int maxMessageLength, WriteBufferWaterMark waterMark,
                            LossCounters losses, java.util.function.BiConsumer<String, String> lossEvents,
                            io.pgwarden.net.FatalErrorGuard fatal) {
        this(transport, maxMessageLength, waterMark, losses, lossEvents, fatal, new PassThroughKeys());
    }

    public BackendConnector(Transport transport, int maxMessageLength, WriteBufferWaterMark waterMark,
                            LossCounters losses, java.util.function.BiConsumer<String, String> lossEvents,
                            io.pgwarden.net.FatalErrorGuard fatal, PassThroughKeys passThroughKeys) {
        this.passThroughKeys = passThroughKeys;
        this.fatal = fatal;
        this.transport = transport;
        this.lossEvents = lossEvents;
        this.losses = losses;
        this.maxMessageLength = maxMessageLength;
        this.waterMark = waterMark;
    }

    /**
     * Target of one login: where to connect and as whom.
     *
     * @param startupParameters null for a pooled backend (pgwarden's own startup packet); else the parameters of
     *                          the one client a dedicated backend serves (a replication connection), sent as given
     * @param probe             a short login that only asks a host its role: its open and close are logged at
     *                          DEBUG, since one runs per host every health check interval
     */
    public record Target(String host, int port, String database, String user, String password,
                         ServerSettings server, java.util.Map<String, String> startupParameters, boolean probe) {

        public Target(String host, int port, String database, String user, String password, ServerSettings server) {
            this(host, port, database, user, password, server, null);
        }

        public Target(String host, int port, String database, String user, String password, ServerSettings server,
                      java.util.Map<String, String> startupParameters) {
            this(host, port, database, user, password, server, startupParameters, false);
        }

        /** The same database and role on the server at {@code otherHost}:{@code otherPort}. */
        public Target at(String otherHost, int otherPort) {
            return new Target(otherHost, otherPort, database, user, password, server, startupParameters, probe);
        }

        /** The same server and role, logged in with one client's own startup parameters. */
        public Target withStartupParameters(java.util.Map<String, String> parameters) {
            return new Target(host, port, database, user, password, server, java.util.Map.copyOf(parameters), probe);
        }

        /** The same login, made by a host probe. */
        public Target asProbe() {
            return new Target(host, port, database, user, password, server, startupParameters, true);
        }

        Duration connectTimeout() {
            return server.connectTimeout();
        }

        @Override
        public String toString() {
            return user + "@" + host + ":" + port + "/" + database;
        }
    }

    @Override
    public CompletableFuture<BackendConnection> connect(EventLoop loop, Target target) {
        ServerTlsMode mode = target.server().tls().mode();
        boolean tlsFirst = mode != ServerTlsMode.DISABLE && mode != ServerTlsMode.ALLOW;
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        Attempt first = new Attempt(loop, target, tlsFirst);
        first.start().whenComplete((backend, error) -> {
            if (backend != null) {
                result.complete(backend);
            } else if (!first.fallsBack(mode)) {
                result.completeExceptionally(loginFailure(error));
            } else {
                // libpq's allow and prefer: the other kind of connection, once, when the first kind was refused.
                BackendLoginException refused = loginFailure(error);
                log.info("event=server_tls_retry target={} encrypted={} reason={}", target, !tlsFirst,
                        LogValues.quote(refused.getMessage()));
                new Attempt(loop, target, !tlsFirst).start().whenComplete((retried, again) -> {
                    if (retried != null) {
                        result.complete(retried);
                        return;
                    }
                    BackendLoginException last = loginFailure(again);
                    if (last.getMessage().equals(refused.getMessage())) {
                        // The same answer both ways (a missing database): the server's words, as it said them.
                        result.completeExceptionally(last);
                        return;
                    }
                    result.completeExceptionally(new BackendLoginException(ErrorResponse.fatal(
                            last.error().sqlstate(), refused.getMessage() + "; then, retried "
                                    + (tlsFirst ? "without" : "with") + " TLS: " + last.getMessage()),
                            last.permanent()));
                });
            }
        });
        result.whenComplete((b, e) -> {
            // A probe's failure is reported by the cluster when the host's state changes (host_probe_failed).
            Level level = target.probe() ? Level.DEBUG : b != null ? Level.INFO : Level.WARN;
            if (b != null) {
                log.atLevel(level).log("event=server_open server={} pid={} target={} tls={}", b.id(), b.processId(),
                        target, b.channel().pipeline().get(SslHandler.class) != null);
            } else {
                log.atLevel(level).log("event=server_open_failed server={} target={} reason={}", first.id, target,
                        LogValues.quote(e.getMessage()));
            }
        });
        return result;
    }

    private static BackendLoginException loginFailure(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
        return cause instanceof BackendLoginException e ? e
                : new BackendLoginException(ErrorResponse.fatal("08001", String.valueOf(cause)), false);
    }

    /** One TCP connection, its TLS negotiation if asked for, and the login over it. */
    private final class Attempt {
        private final long id = ids.incrementAndGet();
        private final EventLoop loop;
        private final Target target;
        private final boolean encrypt;
        private final CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        private boolean negotiationFailed;
        private BackendLogin login;

        Attempt(EventLoop loop, Target target, boolean encrypt) {
            this.loop = loop;
            this.target = target;
            this.encrypt = encrypt;
        }

        /** After a failure: whether the mode retries with the other kind of connection, as libpq does. */
        boolean fallsBack(ServerTlsMode mode) {
            boolean refused = login != null && login.refusedByServer();
            return encrypt ? mode == ServerTlsMode.PREFER && (negotiationFailed || refused)
                    : mode == ServerTlsMode.ALLOW && refused;
        }

        CompletableFuture<BackendConnection> start() {
            BackendHandler handler = new BackendHandler(losses, lossEvents, target.database() + "/" + target.user(),
                    target.probe());
            int connectMillis = (int) Math.min(Integer.MAX_VALUE, target.connectTimeout().toMillis());
            Bootstrap bootstrap = new Bootstrap()
                    .group(loop)
                    .channelFactory(transport.outboundChannels())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
                    .option(ChannelOption.ALLOCATOR, transport.allocator())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.SO_KEEPALIVE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                    // A failed write must not close the socket before its input is read: the FATAL that PostgreSQL
                    // sent before dying may still be waiting there, and it says whether a request can be replayed.
                    .option(ChannelOption.AUTO_CLOSE, false)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("frames",
                                    new MessageFrameDecoder(maxMessageLength, handler::takesChunks));
                            // Ahead of the handler: the session's writes and the login's pass through it.
                            ch.pipeline().addLast("coalesce", new WriteCoalescer());
                            ch.pipeline().addLast("backend", handler);
                            ch.pipeline().addLast("fatal", fatal);
                        }
                    });
            InetSocketAddress address = InetSocketAddress.createUnresolved(target.host(), target.port());
            ChannelFuture connect = bootstrap.connect(target.host(), target.port());
            // The connect timeout covers the TCP handshake only; TLS and the login get the same budget again.
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    String why = "could not connect to " + target.host() + ":" + target.port() + ": "
                            + describe(f.cause());
                    result.completeExceptionally(new BackendLoginException(ErrorResponse.fatal("08001", why), false));
                    return;
                }
                Keepalive keepalive = target.server().keepalive();
                SocketOptions.apply(connect.channel(), keepalive.idle(), keepalive.interval(), keepalive.count(),
                        target.server().tcpUserTimeout());
                BackendConnection backend = new BackendConnection(id, connect.channel(), address);
                handler.attach(backend);
                ScheduledFuture<?> deadline = loop.schedule(() -> {
                    if (result.completeExceptionally(new BackendLoginException(ErrorResponse.fatal("08001",
                            "login to " + target.host() + ":" + target.port() + " timed out after "
                                    + target.connectTimeout().toMillis() + " ms"), false))) {
                        backend.close(LossReason.LOGIN_FAILED, "login timed out");
                    }
                }, connectMillis, TimeUnit.MILLISECONDS);
                result.whenComplete((b, e) -> deadline.cancel(false));
                if (!encrypt) {
                    logIn(backend, null);
                    return;
                }
                new TlsNegotiation(tls, target.server().tls(), target.host(), target.port()).start(connect.channel())
                        .whenComplete((certificate, error) -> {
                            if (error == null) {
                                logIn(backend, certificate);
                            } else if (!result.isDone()) {
                                // Set first: completing runs the fallback decision, which reads it.
                                negotiationFailed = true;
                                backend.recordLoss(LossReason.LOGIN_FAILED, error.getMessage());
                                result.completeExceptionally(error);
                                backend.channel().close();
                            }
                        });
            });
            return result;
        }

        private void logIn(BackendConnection backend, X509Certificate serverCertificate) {
            if (result.isDone()) {
                return;
            }
            // The trust manager refused any chain it could not verify, so a certificate here is a verified one.
            boolean verifiedTls = serverCertificate != null && target.server().tls().verifiesChain();
            login = new BackendLogin(target.user(), secretOf(target), target.database(),
                    target.startupParameters(), target.server().cleartextPassword(),
                    target.server().allowMd5Password(), serverCertificate, verifiedTls, result);
            backend.toAuthenticating(login);
            login.start(backend);
        }
    }

    private BackendSecret secretOf(Target target) {
        return new BackendSecret(target.user(), target.password(), passThroughKeys);
    }

    @Override
    public Optional<String> whyNotUnasked(Target target) {
        BackendSecret secret = secretOf(target);
        return secret.canLogInUnasked() ? Optional.empty() : Optional.of(secret.noKeyYet());
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
