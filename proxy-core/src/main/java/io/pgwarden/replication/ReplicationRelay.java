package io.pgwarden.replication;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.ProxyConfig;
import io.pgwarden.config.UserConfig;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.ClientCloseReason;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientState;
import io.pgwarden.session.DedicatedLogin;
import io.pgwarden.session.ProxyContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replication connection (startup parameter {@code replication}): pgwarden authenticates the client as any
 * other, then logs in a backend of the client's own with the client's startup parameters, and from then on
 * relays every message unchanged both ways: replication commands, SQL (for {@code replication=database}), COPY
 * BOTH and its CopyData. Nothing is parsed, nothing is pooled: the backend closes with the client and the client
 * with the backend.
 *
 * <p>Flow control is end to end: while one side's socket cannot take more, the other side is not read, so a slow
 * WAL consumer holds back the walsender instead of filling pgwarden's memory. Confined to the client's event loop,
 * which the backend is opened on.
 */
public final class ReplicationRelay implements BackendListener {

    private static final Logger log = LoggerFactory.getLogger(ReplicationRelay.class);
    /** How long a client may take to read what its backend sent before closing. */
    private static final long LAST_WORDS_MILLIS = 10_000;

    private final ClientSession session;
    private final Channel client;
    private final ProxyContext context;
    /** The client's {@code replication} value: {@code database} for logical, {@code true} for physical. */
    private final String kind;
    /** Null until the backend has logged in. */
    private BackendConnection backend;
    /** The client sent Terminate: the backend gets it, then closes. */
    private boolean terminating;

    private ReplicationRelay(ClientSession session, Channel client, ProxyContext context, String kind) {
        this.session = session;
        this.client = client;
        this.context = context;
        this.kind = kind;
    }

    /**
     * Whether a startup packet's {@code replication} value asks for a walsender: {@code database}, or anything
     * PostgreSQL does not read as false (an invalid value then gets PostgreSQL's own error, from the backend).
     */
    public static boolean isRequested(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        boolean isFalse = v.equals("0") || (!v.isEmpty() && ("false".startsWith(v) || "no".startsWith(v)))
                || (v.length() >= 2 && "off".startsWith(v));
        return !isFalse;
    }

    /**
     * Where a physical replication connection whose database name is not configured goes. PostgreSQL ignores that
     * name (a physical walsender serves the whole cluster), and libpq's tools and psycopg2 send "replication"; so
     * when every configured database is on one server, that server is meant. Empty otherwise, and for logical
     * replication, which streams one database and must name it.
     */
    public static Optional<DatabaseConfig> physicalTarget(ProxyConfig config,
                                                                     String replication) {
        if (!isRequested(replication) || replication.trim().equalsIgnoreCase("database")) {
            return Optional.empty();
        }
        List<DatabaseConfig> all = config.databases().values().stream().toList();
        boolean oneServer = !all.isEmpty() && all.stream()
                .allMatch(d -> d.host().equals(all.get(0).host()) && d.port() == all.get(0).port());
        return oneServer ? Optional.of(all.get(0)) : Optional.empty();
    }

    /** The authenticated client's backend login starts now; the client hears AuthenticationOk once it succeeds. */
    public static ReplicationRelay open(ClientSession session, Channel client, ProxyContext context,
                                        DatabaseConfig database, UserConfig user, Map<String, String> startup) {
        ReplicationRelay relay = new ReplicationRelay(session, client, context, startup.get("replication"));
        Map<String, String> parameters = new LinkedHashMap<>();
        startup.forEach((name, value) -> {
            // user and database name the pool's role and database; protocol options were negotiated away.
            if (!name.equals("user") && !name.equals("database") && !name.startsWith("_pq_.")) {
                parameters.put(name, value);
            }
        });
        EventLoop loop = client.eventLoop();
        context.pools().openDedicated(loop, database, user, parameters).whenComplete((b, error) -> {
            if (loop.inEventLoop()) {
                relay.onOpened(b, error);
            } else {
                loop.execute(() -> relay.onOpened(b, error));
            }
        });
        return relay;
    }

    private void onOpened(BackendConnection opened, Throwable error) {
        if (opened == null) {
            Throwable cause = error instanceof CompletionException ? error.getCause() : error;
            ErrorResponse why = cause instanceof BackendLoginException e ? e.error()
                    : ErrorResponse.fatal("08001", "pgwarden could not open a replication connection: " + cause);
            // PostgreSQL's own refusal (pg_hba.conf, max_wal_senders, no REPLICATION attribute) reaches the client.
            session.fatal(why, ClientCloseReason.SERVER_LOGIN_FAILED);
            return;
        }
        if (session.state() == ClientState.CLOSED || !client.isActive()) {
            opened.close("the client left before its replication connection was ready");
            return;
        }
        backend = opened;
        opened.toLinked(this);
        opened.setAutoRead(client.isWritable());
        client.closeFuture().addListener(f -> {
            if (!terminating) {
                opened.close("the client closed its replication connection");
            }
        });
        DedicatedLogin.complete(session, context, opened, opened.parameters());
        log.info("event=replication_open client={} server={} pid={} replication={}", session.id(), opened.id(),
                opened.processId(), kind);
    }

    // ---- client to backend ------------------------------------------------------------------------------

    /** Takes ownership of {@code message}. */
    public void onClientMessage(ByteBuf message) {
        BackendConnection b = backend;
        if (b == null || session.state() == ClientState.CLOSED) {
            // Nothing may come before ReadyForQuery but a goodbye.
            boolean goodbye = Frames.tag(message) == Tags.Frontend.TERMINATE;
            message.release();
            if (goodbye) {
                session.close(ClientCloseReason.TERMINATED);
            }
            return;
        }
        if (Frames.tag(message) == Tags.Frontend.TERMINATE) {
            // PostgreSQL is told goodbye as the client said it, so it logs a clean end rather than an EOF.
            terminating = true;
            b.channel().writeAndFlush(message)
                    .addListener(f -> b.close("the client ended its replication connection (Terminate)"));
            session.close(ClientCloseReason.TERMINATED);
            return;
        }
        b.write(message);
        if (!b.isWritable()) {
            client.config().setAutoRead(false);
        }
    }

    public void onClientReadComplete() {
        BackendConnection b = backend;
        if (b != null) {
            b.flush();
        }
    }

    public void onClientWritabilityChanged(boolean writable) {
        BackendConnection b = backend;
        if (b != null && b.isUsable()) {
            b.setAutoRead(writable);
        }
    }

    // ---- backend to client ------------------------------------------------------------------------------

    @Override
    public void onBackendMessage(BackendConnection from, ByteBuf message) {
        client.write(message, client.voidPromise());
        if (!client.isWritable()) {
            from.setAutoRead(false);
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection from) {
        client.flush();
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection from, boolean writable) {
        if (session.state() != ClientState.CLOSED) {
            client.config().setAutoRead(writable);
        }
    }

    @Override
    public void onBackendClosed(BackendConnection from, String reason) {
        if (session.state() == ClientState.CLOSED) {
            return;
        }
        // What PostgreSQL said last (its FATAL, the end of a stream) reaches the client before the close; a
        // client that does not read it is closed anyway once it has had a fair chance.
        client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f ->
                session.close(ClientCloseReason.REPLICATION_SERVER_CLOSED));
        client.eventLoop().schedule(() -> session.close(ClientCloseReason.REPLICATION_SERVER_CLOSED),
                LAST_WORDS_MILLIS, TimeUnit.MILLISECONDS);
    }
}
