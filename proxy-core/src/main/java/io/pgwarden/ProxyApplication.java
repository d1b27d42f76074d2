package io.pgwarden;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.pgwarden.backend.BackendConnector;
import io.pgwarden.backend.CancelForwarder;
import io.pgwarden.backend.LossCounters;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.frontend.Credentials;
import io.pgwarden.pool.PoolRegistry;
import io.pgwarden.server.ProxyServer;
import io.pgwarden.server.Transport;
import io.pgwarden.session.CancelRegistry;
import io.pgwarden.session.ProxyContext;
import io.pgwarden.session.StatementNames;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Composition root: builds every part of the proxy from one configuration, and tears it down. */
public final class ProxyApplication implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyApplication.class);
    /** PostgreSQL's own limit for a single message is 1 GB. */
    private static final int MAX_MESSAGE_LENGTH = 1 << 30;
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final EventLoopGroup loops;
    private final PoolRegistry pools;
    private final ProxyServer server;
    private final InetSocketAddress address;

    private ProxyApplication(EventLoopGroup loops, PoolRegistry pools, ProxyServer server, InetSocketAddress address) {
        this.loops = loops;
        this.pools = pools;
        this.server = server;
        this.address = address;
    }

    public static ProxyApplication start(ProxyConfig config) throws InterruptedException {
        Transport transport = Transport.best();
        EventLoopGroup loops = transport.newEventLoopGroup(Runtime.getRuntime().availableProcessors(), "pgwarden");
        try {
            LossCounters losses = new LossCounters();
            BackendConnector connector = new BackendConnector(transport, MAX_MESSAGE_LENGTH, WATER_MARK, losses);
            PoolRegistry pools = new PoolRegistry(connector, loops);
            ProxyContext context = new ProxyContext(config, pools, new Credentials(), new CancelRegistry(),
                    new CancelForwarder(transport), new StatementNames(), new AtomicInteger(), MAX_MESSAGE_LENGTH);
            ProxyServer server = new ProxyServer(transport, loops, context, WATER_MARK);
            InetSocketAddress address = server.bind(config.listen().host(), config.listen().port());
            config.databases().values().forEach(db -> config.users().values().forEach(user -> {
                if (db.pool().minSize() > 0) {
                    pools.poolFor(db, user).fill();
                }
            }));
            log.info("pgwarden listening on {} ({} transport, {} databases, {} users)", address, transport.name(),
                    config.databases().size(), config.users().size());
            return new ProxyApplication(loops, pools, server, address);
        } catch (InterruptedException | RuntimeException e) {
            loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    public PoolRegistry pools() {
        return pools;
    }

    @Override
    public void close() {
        server.close();
        pools.closeAll("pgwarden shutting down");
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        log.info("pgwarden stopped");
    }
}
