package io.pgwarden.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * HTTP endpoints for monitoring: GET /metrics (Prometheus text format), GET /health (liveness, always 200
 * while the process serves HTTP) and GET /ready (readiness, 503 while any pool is not ready); see
 * {@link MonitoringRoutes}.
 *
 * <p>Served by Netty on an event loop of its own, not the proxy's, so monitoring keeps working when the proxy's
 * loops are saturated or stuck, exactly when someone wants to look. Non-blocking I/O with request and idle
 * deadlines and a connection cap means slow or idle HTTP clients cannot starve a probe, as they starved the JDK
 * HttpServer's two threads.
 */
public final class HttpEndpoints implements AutoCloseable {

    private final EventLoopGroup group;
    private volatile Channel listener;
    // Touched only on the group's single thread: the child initializer and close listeners run there.
    private final Set<Channel> connections = new LinkedHashSet<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private HttpEndpoints(EventLoopGroup group) {
        this.group = group;
    }

    /** Starts with the default limits and no token on /metrics. */
    public static HttpEndpoints start(String host, int port, ProxyMetrics metrics, Supplier<List<PoolView>> pools)
            throws IOException {
        return start(host, port, metrics, pools, null, HttpLimits.defaults());
    }

    /**
     * Starts serving GET /metrics (Prometheus text), GET /health (200, JSON {"status":"up"}), GET /ready (200
     * if every pool view has ready=true or there are no pools, else 503; JSON body
     * {"ready":bool,"pools":[{"database":..,"user":..,"ready":..,"detail":..},...]}); anything else 404.
     *
     * @param port 0 binds any free port; see {@link #address()}
     * @param metricsToken when not null, /metrics answers 401 unless sent {@code Authorization: Bearer <token>}
     */
    public static HttpEndpoints start(String host, int port, ProxyMetrics metrics, Supplier<List<PoolView>> pools,
                                      String metricsToken, HttpLimits limits) throws IOException {
        return start(host, port, metrics, pools, metricsToken, limits, () -> false);
    }

    /** As above; /ready answers 503 {"ready":false,"stopping":true} once {@code stopping} is true. */
    public static HttpEndpoints start(String host, int port, ProxyMetrics metrics, Supplier<List<PoolView>> pools,
                                      String metricsToken, HttpLimits limits, BooleanSupplier stopping)
            throws IOException {
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(pools, "pools");
        Objects.requireNonNull(limits, "limits");
        // Daemon thread: an endpoint someone forgot to close must not keep the JVM alive after main() returns.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("pgwarden-http", true),
                NioIoHandler.newFactory());
        MonitoringHandler handler = new MonitoringHandler(new MonitoringRoutes(metrics, pools, metricsToken, stopping));
        // Exists before the bind, so a connection accepted the moment the port opens finds it.
        HttpEndpoints self = new HttpEndpoints(group);
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpDeadline(limits),
                                new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(limits.maxRequestBytes())
                                        .setMaxHeaderSize(limits.maxRequestBytes())),
                                new HttpObjectAggregator(limits.maxRequestBytes()),
                                handler);
                        self.admit(ch, limits.maxConnections());
                    }
                });
        ChannelFuture bound;
        try {
            bound = bootstrap.bind(host, port).awaitUninterruptibly();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IOException("cannot serve HTTP on " + host + ":" + port + ": " + bound.cause().getMessage(),
                    bound.cause());
        }
        self.listener = bound.channel();
        return self;
    }

    /**
     * Over the cap, the oldest connection that is only waiting on its client makes room: a probe arriving
     * while the cap is held by idle or slow connections still gets its answer.
     */
    private void admit(Channel ch, int maxConnections) {
        if (connections.size() >= maxConnections) {
            Channel victim = connections.stream()
                    .filter(c -> c.pipeline().get(HttpDeadline.class).waitingOnClient())
                    .findFirst().orElse(null);
            if (victim == null) {
                ch.close();
                return;
            }
            connections.remove(victim);
            victim.close();
        }
        connections.add(ch);
        ch.closeFuture().addListener(f -> connections.remove(ch));
    }

    /** The actual bound address; with port 0 this tells which port was picked. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Stops at once (no grace period for in-flight requests) and shuts the event loop down; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        // Close the connections while the loop still runs their pipelines' close events: a loop that is shutting
        // down drops those events, and a decoder holding half a request would never release its buffer.
        group.submit(() -> List.copyOf(connections).forEach(Channel::close)).awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.submit(() -> { }).awaitUninterruptibly(5, TimeUnit.SECONDS);
        // Bounded: a stop must not hang on a loop that failed to terminate.
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
