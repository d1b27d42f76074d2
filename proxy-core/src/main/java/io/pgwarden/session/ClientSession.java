package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.log.LogValues;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.Tags;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection after its StartupMessage: its state, and the wiring between its channel, its pool and
 * the link to the backend serving it. Confined to the client's event loop: backend callbacks that arrive on
 * another loop hop onto this one first (in {@link BackendLink}).
 *
 * <pre>
 * client                    pgwarden                              PostgreSQL
 *   StartupMessage, auth --> frontend.Login: AUTHENTICATING
 *                            LOGIN_WAITING (backend parameters) <--> login (pooled)
 *   AuthOk, params, K, Z <-
 *   Query / P B E S ------>  IDLE -> WAITING -> ACTIVE  ------------>  request
 *   results, Z(I)   <------  IDLE | IN_TRANSACTION | FAILED_TRANSACTION (transaction mode: backend released at Z 'I')
 *   Terminate       ------>  CLOSED: backend rolled back / reset, then back to the pool
 * </pre>
 */
public final class ClientSession {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    private final long id;
    private final Channel channel;
    private final ProxyContext context;
    final SessionTimes times = new SessionTimes(System.nanoTime());
    final ReadGate gate;
    final ServerLossRecovery recovery = new ServerLossRecovery();
    final BackendLink link;
    /** How the pool knows this client. */
    final PoolWait wait;
    final WaitingQueue queue = new WaitingQueue();
    final SettingsSync settingsSync = new SettingsSync();
    /** While logging in only. */
    SessionLogin login;
    final StatementNotes notes = new StatementNotes();
    final ClientStream stream = new ClientStream(this);
    private final Refusal refusal = new Refusal(this);
    private final Watchlist watchlist;
    /** In {@link #watchlist}, which the janitor visits every round. */
    boolean watched;
    private volatile ClientState state = ClientState.STARTUP;
    volatile TransactionStatus transactionStatus = TransactionStatus.IDLE;
    volatile String lastBackendLoss;
    volatile String applicationName;
    volatile StartupMessage startup;
    private volatile BackendPool pool;
    PoolClients poolClients;
    PoolingMode mode;
    volatile CancelRegistry.Key key;
    /** A replication client's backend, its own and never pooled ({@link DedicatedLogin}); null for the others. */
    volatile BackendConnection dedicated;
    /** Between a client message and the end of its read batch, when {@link #onClientReadComplete} will flush. */
    boolean inClientRead;
    /** The clock when the current client read batch began: one clock read serves all its messages. */
    private long batchNanos;

    public ClientSession(long id, Channel channel, ProxyContext context) {
        this.id = id;
        this.channel = channel;
        this.context = context;
        this.gate = new ReadGate(channel);
        this.link = new BackendLink(channel, new LinkEvents(this, context), recovery, gate);
        this.wait = new PoolWait(this, context);
        this.watchlist = context.sessions().add(this);
        watched = true;
        watchlist.add(this);
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public long id() {
        return id;
    }

    public ClientState state() {
        return state;
    }

    /** The one place the client's state changes; it keeps the pool's per-state counts with it. */
    void transition(ClientState next) {
        ClientState previous = state;
        if (next == previous) {
            return;
        }
        state = next;
        if (poolClients != null) {
            poolClients.moved(previous, next);
        }
        if (!watched && Watchlist.needsWatching(next)) {
            watched = true;
            watchlist.add(this);
        }
        long now = now();
        times.stateSince = now;
        if (next.isWaiting()) {
            times.waitBegins(now);
        }
        refusal.onTransition(next);
        context.sessions().drain().onTransition(this, previous, next);
    }

    // ---- login (driven by frontend.Login) ---------------------------------------------------------

    /** The StartupMessage was accepted: authentication begins. */
    public void authenticating(StartupMessage message) {
        startup = message;
        transition(ClientState.AUTHENTICATING);
    }

    /** A client of the virtual admin database: logged in, with no pool and no backend. */
    public void startAdmin(Map<String, String> parameters) {
        new SessionLogin(this, context).complete(context.cancelRegistry().register(this), parameters);
    }

    /** Authenticated for a pool: session mode (or a pool with no parameters yet) gets a backend first. */
    public void start(LoginResult result) {
        login = new SessionLogin(this, context);
        login.start(result);
    }

    void startOn(BackendPool pool, PoolClients clients, PoolingMode mode) {
        this.pool = pool;
        this.mode = mode;
        poolClients = clients;
        clients.moved(null, state);
    }

    // ---- from the client --------------------------------------------------------------------------

    /** Takes ownership of {@code message}. */
    public void onClientMessage(ByteBuf message) {
        if (!inClientRead) {
            inClientRead = true;
            batchNanos = System.nanoTime();
        }
        times.lastActivity = batchNanos;
        byte tag = Frames.tag(message);
        if (!state.isLoggedIn() && state != ClientState.LOGIN_WAITING) {
            message.release();
        } else if (tag == Tags.Frontend.TERMINATE) {
            message.release();
            close(ClientCloseReason.TERMINATED);
        } else if (link.isBound() && state != ClientState.LOGIN_WAITING) {
            forward(message, tag);
        } else {
            wait.withoutBackend(message, tag);
        }
    }

    /** The head of a message relayed as it arrives ({@link io.pgwarden.net.MessageHead}); takes ownership. */
    public void onClientMessageHead(ByteBuf head) {
        stream.onHead(head);
    }

    /** The next bytes of that message; takes ownership. */
    public void onClientChunk(io.pgwarden.net.MessageChunk chunk) {
        stream.onChunk(chunk);
    }

    void forward(ByteBuf message, byte tag) {
        if (link.pending().clientOwedNothing()) {
            times.requestBegins();
        }
        if (tag == Tags.Frontend.QUERY || tag == Tags.Frontend.PARSE) {
            StatementActions.onStatement(this, context, message, tag);
        }
        recovery.onForward(message, tag);
        mode.relay(message, tag, link);
        stream.onForward(message);
        if (!link.pending().isQuiet()) {
            transition(ClientState.ACTIVE);
        }
    }

    public void onClientReadComplete() {
        inClientRead = false;
        link.flush();
    }

    /** The time now, to within one read batch: clock reads were a visible share of the proxy's own CPU. */
    long now() {
        return inClientRead ? batchNanos : System.nanoTime();
    }

    public void onClientWritabilityChanged(boolean writable) {
        link.onClientWritabilityChanged(writable);
        if (writable && mode != null) {
            mode.onClientWritable();
        }
    }

    /** A message the client may not send: FATAL once what it sent before has been answered (see {@link Refusal}). */
    public void refuse(ErrorResponse error) {
        refusal.refuse(error);
    }

    public boolean isRefused() {
        return refusal.isRefused();
    }

    /** True when {@code message} is dropped (see {@link Refusal#intercepts}); it is then released. */
    public boolean intercepts(ByteBuf message) {
        return refusal.intercepts(message);
    }

    public void onProtocolViolation(ErrorResponse error) {
        fatal(error, ClientCloseReason.PROTOCOL_VIOLATION);
    }

    public void onClientClosed() {
        close(ClientCloseReason.DISCONNECTED);
    }

    /**
     * Called from any thread by a CancelRequest that named this session's key. Completes when PostgreSQL has acted
     * on it ({@link PoolWait#cancelRequest}).
     */
    public Future<Void> cancelCurrentRequest() {
        return wait.cancelRequest();
    }

    // ---- what operators see, and the timeouts they set ----------------------------------------------

    public BackendConnection linkedBackend() {
        BackendConnection own = dedicated;
        return own != null ? own : link.backend();
    }

    /** The pool this client uses, or null before login and for the admin console. */
    public BackendPool pool() {
        return pool;
    }

    /** A snapshot for SHOW CLIENTS and SHOW LEAKS; safe to call from any thread (best effort). */
    public ClientView view() {
        return ClientViews.of(this);
    }

    /** This client's client.leak_after (SHOW LEAKS): its database's own, or the global one before login. */
    public java.time.Duration leakAfter() {
        return TimeoutEnforcer.settingsOf(this, context.config()).client().leakAfter();
    }

    boolean matchesSecret(int secretKey) {
        CancelRegistry.Key k = key;
        return k != null && k.secretKey() == secretKey;
    }

    /** The janitor's round for this client, on its own event loop: every client timeout lives here. */
    void janitorTick(long now) {
        if (state != ClientState.CLOSED) {
            TimeoutEnforcer.tick(this, context, now);
        }
    }

    /** Closes this client on an operator's request (KILL_CLIENT). */
    public void kill(String why) {
        eventLoop().execute(() -> {
            context.metrics().clientKilled("admin");
            fatal(ErrorResponse.fatal("57P01", "terminating connection due to administrator command (pgwarden: "
                    + why + ")"), ClientCloseReason.ADMIN_KILL);
        });
    }

    // ---- ending -----------------------------------------------------------------------------------

    /** The client gets {@code error}, then its connection closes. */
    public void fatal(ErrorResponse error, ClientCloseReason reason) {
        if (state == ClientState.CLOSED) {
            return;
        }
        ClientGoodbye.send(channel, error, state);
        close(reason, error.sqlstate() + " " + error.message(), false);
    }

    public void close(ClientCloseReason reason) {
        close(reason, null, true);
    }

    /** @param closeChannel false when a pending write closes the channel once the client has its error */
    private void close(ClientCloseReason reason, String detail, boolean closeChannel) {
        if (state == ClientState.CLOSED) {
            return;
        }
        ClientState previous = state;
        transition(ClientState.CLOSED);
        recovery.close();
        stream.onClose();
        queue.releaseAll();
        if (previous.isWaiting() && pool != null) {
            // If the pool already handed us a backend, onBackendAcquired sees CLOSED and gives it back.
            pool.cancelWait(wait);
        }
        BackendConnection b = link.unbind();
        if (b != null) {
            wait.returnBackend(b);
        }
        if (mode != null) {
            mode.onClose();
        }
        context.cancelRegistry().unregister(key);
        context.sessions().remove(this);
        context.metrics().clientClosed(reason.label());
        if (reason.eventKind() != null) {
            context.events().add(pool != null ? pool.key().toString() : "-", reason.eventKind(), "client#" + id + ": "
                    + reason.description() + (detail != null ? " (" + detail + ")" : ""));
        }
        StartupMessage s = startup;
        if (previous != ClientState.STARTUP || s != null) {
            log.info("event=client_close client={} addr={} user={} database={} duration_ms={} reason_class={} "
                    + "reason={}", id, remote(), LogValues.quote(s != null ? s.user() : ""),
                    LogValues.quote(s != null ? s.database() : ""),
                    (System.nanoTime() - times.connectedAt) / 1_000_000, reason.label(),
                    LogValues.quote(detail != null ? detail : reason.description()));
        }
        if (closeChannel) {
            channel.close();
        }
    }

    Channel channel() {
        return channel;
    }

    String remote() {
        return String.valueOf(channel.remoteAddress());
    }

    @Override
    public String toString() {
        return "client#" + id;
    }
}
