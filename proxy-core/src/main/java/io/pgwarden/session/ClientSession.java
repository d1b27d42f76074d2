package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.backend.LossReason;
import io.pgwarden.config.DatabaseConfig;
import io.pgwarden.config.Keepalive;
import io.pgwarden.config.PoolMode;
import io.pgwarden.config.UserConfig;
import io.pgwarden.frontend.ClientAuthenticator;
import io.pgwarden.metrics.ServerLossMoment;
import io.pgwarden.pool.BackendPool;
import io.pgwarden.pool.PoolWaiter;
import io.pgwarden.protocol.BackendMessages;
import io.pgwarden.protocol.CancelRequest;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.StartupRequest;
import io.pgwarden.protocol.Tags;
import io.pgwarden.protocol.auth.AuthenticationException;
import io.pgwarden.server.SocketOptions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, from its first byte to its close. Confined to the client's event loop: backend
 * callbacks that arrive on another loop hop onto this one first.
 *
 * <pre>
 * client                    pgwarden                         PostgreSQL
 *   StartupMessage  ------>  STARTUP
 *   SASL exchange   <----->  AUTHENTICATING
 *                            LOGIN_WAITING (backend params) <--> login (pooled)
 *   AuthOk, params, K, Z <-
 *   Query / P B E S ------>  IDLE -> WAITING -> LINKED  ------->  request
 *   results, Z(I)   <------  (transaction mode: release at Z 'I' when nothing is in flight)
 *   Terminate       ------>  CLOSED: backend rolled back / reset, then back to the pool
 * </pre>
 */
public final class ClientSession implements PoolWaiter, BackendListener {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    /** The protocol minor version pgwarden speaks; newer minors are negotiated down, as PostgreSQL does. */
    private static final int NEWEST_MINOR = 0;

    /**
     * While waiting for a backend, reading from the client goes on (pausing it costs two epoll_ctl calls per
     * wait) until this many messages, or one bigger than the byte bound, are queued: at most about 136 KiB.
     */
    private static final int MAX_QUEUED_WHILE_WAITING = 16;
    private static final int MAX_QUEUED_MESSAGE_BYTES = 8_192;

    private final long id;
    private final Channel channel;
    private final ProxyContext context;
    private final long connectedAtNanos = System.nanoTime();
    private final PendingResponses pending = new PendingResponses();
    private final SessionSettings settings = new SessionSettings();
    /** Transaction mode only: makes named prepared statements follow the client between backends. */
    private PreparedStatementRelay statements;
    /** Transaction mode: the client ran SET/RESET/DISCARD, so its settings are read back before release. */
    private boolean settingsChanged;
    /** Transaction mode: the client ran LISTEN, which must not outlive its transaction on a shared backend. */
    private boolean listening;
    /** Session mode: what is needed to rebuild the session on a new backend. */
    private SessionState sessionState;
    private final ReplayWindow replay = new ReplayWindow();
    /** The backend died in the client's transaction: the next link first recreates a failed transaction. */
    private boolean failedTransactionToRestore;
    /** The backend died while the client sat in a transaction: its next request gets the 08006 error. */
    private boolean lostTransactionError;
    /** Session mode: the backend was lost; the next one gets the session's statements first. */
    private boolean restoreOnLink;
    // Small to start: most clients queue a message or two, and idle clients are many (heap per client counts).
    private final ArrayDeque<ByteBuf> waitingMessages = new ArrayDeque<>(4);

    private volatile ClientState state = ClientState.STARTUP;
    private volatile TransactionStatus transactionStatus = TransactionStatus.IDLE;
    // What the admin console and the janitor read (volatile: read off this session's loop by the console).
    private volatile long stateSinceNanos = connectedAtNanos;
    private volatile long lastActivityNanos = connectedAtNanos;
    private volatile long requestStartNanos;
    private volatile long transactionStartNanos;
    private final StatementNotes notes = new StatementNotes();
    private volatile long waitStartNanos;
    /** Where query_wait_timeout counts from: the wait's start, or the last moment the pool was seen paused. */
    private long waitClockStartNanos;
    private volatile String lastBackendLoss;
    /** Transaction mode: holds its backend for good (see {@link #pin}). */
    private volatile boolean pinned;
    /** During login: the ParameterStatus values the client will be told, as the backend reports them. */
    private Map<String, String> loginParameters;
    /** As the server last reported it (startup parameter, then SET application_name). */
    private volatile String applicationName;
    /** Set for clients of the virtual admin database. */
    private AdminConnection admin;
    private long warnedForTransactionAt;
    private boolean waitNoticeSent;
    private boolean queryCancelSent;
    // Traffic since the last ReadyForQuery, added to the pool's stats there (once per transaction, not per message).
    private long statTransactions;
    private long statQueries;
    private long statBytesIn;
    private long statBytesOut;
    private StartupMessage startup;
    private ClientAuthenticator authenticator;
    private UserConfig user;
    private DatabaseConfig database;
    private BackendPool pool;
    /** The pool's interning of settings sets, kept so that no function object is built per transaction. */
    private java.util.function.UnaryOperator<Map<String, String>> internSettings;
    private io.prometheus.metrics.core.datapoints.DistributionDataPoint waitHistogram;
    private volatile BackendConnection backend;
    private volatile CancelRegistry.Key key;
    private boolean flushBackendPending;
    private boolean clientFlushScheduled;
    private final Runnable deferredClientFlush = this::flushClientNow;
    /** Between a client message and the end of its read batch, when {@link #onClientReadComplete} will flush. */
    private boolean inClientRead;
    /** The clock when the current client read batch began: one clock read serves all its messages. */
    private long batchNanos;
    private boolean flushClientPending;
    /** After a request failed without reaching a backend, the rest of its extended batch is skipped up to Sync. */
    private boolean discardUntilSync;
    /** Where the janitor looks every round; this session is in it while {@link #watched}. */
    private final Watchlist watchlist;
    private boolean watched;

    public ClientSession(long id, Channel channel, ProxyContext context) {
        this.id = id;
        this.channel = channel;
        this.context = context;
        this.watchlist = context.sessions().add(this);
        watched = true;
        watchlist.add(this);
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public ClientState state() {
        return state;
    }

    public long id() {
        return id;
    }

    /** The one place the client's state changes. */
    private void setState(ClientState next) {
        if (next != state) {
            state = next;
            if (!watched) {
                watchIfBusy();
            }
            stateSinceNanos = now();
            if (next == ClientState.WAITING || next == ClientState.LOGIN_WAITING) {
                waitStartNanos = stateSinceNanos;
                waitClockStartNanos = stateSinceNanos;
                waitNoticeSent = false;
            }
        }
    }

    boolean matchesSecret(int secretKey) {
        CancelRegistry.Key k = key;
        return k != null && k.secretKey() == secretKey;
    }

    // ---- client side ------------------------------------------------------------------------------

    public void onStartupRequest(StartupRequest request) {
        if (request instanceof StartupMessage message) {
            onStartupMessage(message);
        } else if (request instanceof CancelRequest cancel) {
            ClientSession target = context.cancelRegistry().find(cancel.processId(), cancel.secretKey());
            if (target != null) {
                target.cancelCurrentRequest();
            }
            close("cancel request handled");
        } else {
            // SSLRequest or GSSENCRequest: no encryption yet, and the client may go on in plain text.
            writeRaw('N');
        }
    }

    private void onStartupMessage(StartupMessage message) {
        startup = message;
        if (message.majorVersion() != 3) {
            fatal(ErrorResponse.fatal("0A000", "unsupported frontend protocol " + message.majorVersion() + "."
                    + message.minorVersion() + ": server supports 3.0 to 3." + NEWEST_MINOR));
            return;
        }
        List<String> unsupportedOptions = message.parameters().keySet().stream()
                .filter(name -> name.startsWith("_pq_.")).toList();
        if (message.minorVersion() > NEWEST_MINOR || !unsupportedOptions.isEmpty()) {
            ByteBuf out = channel.alloc().buffer();
            BackendMessages.negotiateProtocolVersion(out, NEWEST_MINOR, unsupportedOptions);
            channel.write(out, channel.voidPromise());
        }
        if (message.user() == null || message.user().isEmpty()) {
            fatal(ErrorResponse.fatal("28000", "no PostgreSQL user name specified in startup packet"));
            return;
        }
        if (message.parameters().containsKey("replication")) {
            fatal(ErrorResponse.fatal("0A000", "pgwarden does not support replication connections"));
            return;
        }
        if (context.clientCount().get() > context.config().listen().maxClientConnections()) {
            fatal(ErrorResponse.fatal("53300", "sorry, too many clients already (max_client_connections is "
                    + context.config().listen().maxClientConnections() + ")"));
            return;
        }
        user = context.config().user(message.user()).orElse(null);
        authenticator = new ClientAuthenticator(message.user(), user, context.credentials());
        setState(ClientState.AUTHENTICATING);
        ByteBuf out = channel.alloc().buffer();
        authenticator.start(out);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    /** Takes ownership of {@code message}. */
    public void onClientMessage(ByteBuf message) {
        if (!inClientRead) {
            inClientRead = true;
            batchNanos = System.nanoTime();
        }
        byte tag = Frames.tag(message);
        lastActivityNanos = batchNanos;
        switch (state) {
            case AUTHENTICATING -> authenticate(message);
            case IDLE, WAITING, LOGIN_WAITING -> {
                if (tag == Tags.Frontend.TERMINATE) {
                    message.release();
                    close("client terminated");
                } else if (admin != null) {
                    channel.writeAndFlush(admin.answer(channel.alloc(), message, tag), channel.voidPromise());
                } else if (discardUntilSync) {
                    skipUntilSync(message, tag);
                } else if (lostTransactionError && state == ClientState.IDLE) {
                    lostTransactionError = false;
                    waitingMessages.add(message);
                    answerQueued(lostConnectionError("the transaction was rolled back"));
                } else {
                    waitingMessages.add(message);
                    if (state == ClientState.IDLE) {
                        waitForBackend();
                    } else if (waitingMessages.size() > MAX_QUEUED_WHILE_WAITING
                            || message.readableBytes() > MAX_QUEUED_MESSAGE_BYTES) {
                        // A client that pipelines while it waits must not make us queue without bound.
                        channel.config().setAutoRead(false);
                    }
                }
            }
            case LINKED -> {
                if (tag == Tags.Frontend.TERMINATE) {
                    message.release();
                    close("client terminated");
                } else {
                    forwardToBackend(message, tag);
                }
            }
            default -> message.release();
        }
    }

    public void onClientReadComplete() {
        inClientRead = false;
        flushPending();
    }

    /** The time now, to within one read batch: clock reads were a visible share of the proxy's own CPU. */
    private long now() {
        return inClientRead ? batchNanos : System.nanoTime();
    }

    private void flushPending() {
        if (flushClientPending) {
            flushClientPending = false;
            channel.flush();
        }
        if (flushBackendPending) {
            flushBackendPending = false;
            BackendConnection b = backend;
            if (b != null) {
                b.flush();
            }
        }
    }

    public void onClientWritabilityChanged(boolean writable) {
        BackendConnection b = backend;
        if (b != null) {
            b.setAutoRead(writable);
        }
    }

    public void onProtocolViolation(ErrorResponse error) {
        fatal(error);
    }

    public void onClientClosed() {
        close("client disconnected");
    }

    private void authenticate(ByteBuf message) {
        ByteBuf out = channel.alloc().buffer();
        try {
            boolean done = authenticator.onMessage(message, out);
            if (out.isReadable()) {
                channel.write(out.retain(), channel.voidPromise());
            }
            if (done) {
                // Its nonces and SCRAM state are of no further use; ten thousand idle clients would keep them.
                authenticator = null;
                onAuthenticated();
            } else {
                channel.flush();
            }
        } catch (AuthenticationException | RuntimeException e) {
            log.info("event=auth_failed client={} addr={} user={} reason=\"{}\"", id, remote(), startup.user(),
                    e.getMessage());
            fatal(ErrorResponse.fatal("28P01", "password authentication failed for user \"" + startup.user() + "\""));
        } finally {
            out.release();
            message.release();
        }
    }

    private void onAuthenticated() {
        if (startup.database().equals(context.config().admin().database())) {
            loginToAdminConsole();
            return;
        }
        database = context.config().database(startup.database()).orElse(null);
        if (database == null) {
            fatal(ErrorResponse.fatal("3D000", "database \"" + startup.database() + "\" does not exist"));
            return;
        }
        pool = context.pools().poolFor(database, user);
        internSettings = pool::canonicalSettings;
        Keepalive keepalive = database.pool().client().keepalive();
        SocketOptions.apply(channel, keepalive.idle(), keepalive.interval(), keepalive.count(), Duration.ZERO);
        if (database.pool().poolMode() == PoolMode.TRANSACTION) {
            statements = new PreparedStatementRelay(context.statementNames(), database.pool().maxPreparedStatements());
        } else {
            sessionState = new SessionState();
        }
        settings.fromStartup(startup.parameters(), pool.serverParameters());
        applicationName = startup.parameters().get("application_name");
        if (decoder() != null) {
            decoder().setMaxMessageLength(context.maxMessageLength());
        }
        log.info("event=client_login client={} addr={} user={} database={} mode={}", id, remote(), user.name(),
                database.name(), database.pool().poolMode().name().toLowerCase());
        Map<String, String> parameters = pool.serverParameters();
        if (database.pool().poolMode() == PoolMode.TRANSACTION && parameters != null) {
            key = context.cancelRegistry().register(this);
            // No backend at hand: report the client's own startup values over the server's defaults. The first
            // backend that serves it reports them again, spelled as the server spells them.
            Map<String, String> reported = new LinkedHashMap<>(parameters);
            settings.wanted().forEach((name, value) -> {
                if (reported.containsKey(name)) {
                    reported.put(name, pool.spellingOf(name, value));
                }
            });
            completeLogin(reported);
            setState(ClientState.IDLE);
            return;
        }
        // Session mode keeps this backend; transaction mode borrows one only to learn the server's parameters.
        setState(ClientState.LOGIN_WAITING);
        waitForBackend();
    }

    /** The virtual admin database: no pool, no backend; its queries are answered by the console. */
    private void loginToAdminConsole() {
        if (!context.config().admin().users().contains(user.name())) {
            fatal(ErrorResponse.fatal("42501", "permission denied: user \"" + user.name()
                    + "\" is not in admin.users, so it may not use the admin console \""
                    + context.config().admin().database() + "\""));
            return;
        }
        admin = new AdminConnection(context.adminConsole().get());
        key = context.cancelRegistry().register(this);
        log.info("event=client_login client={} addr={} user={} database={} mode=admin", id, remote(), user.name(),
                startup.database());
        completeLogin(AdminConnection.loginParameters(context.pools().pools()));
        setState(ClientState.IDLE);
    }

    private void completeLogin(Map<String, String> serverParameters) {
        Map<String, String> parameters = new LinkedHashMap<>(serverParameters);
        ByteBuf out = channel.alloc().buffer();
        BackendMessages.authenticationOk(out);
        parameters.forEach((name, value) -> BackendMessages.parameterStatus(out, name, value));
        BackendMessages.backendKeyData(out, key.processId(), key.secretKey());
        BackendMessages.readyForQuery(out, TransactionStatus.IDLE.wireByte());
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private io.pgwarden.frontend.FrontendFrameDecoder decoder() {
        return channel.pipeline().get(io.pgwarden.frontend.FrontendFrameDecoder.class);
    }

    // ---- getting a backend ------------------------------------------------------------------------

    private void waitForBackend() {
        if (state != ClientState.LOGIN_WAITING) {
            setState(ClientState.WAITING);
        }
        BackendConnection ready = pool.acquire(this);
        if (ready != null) {
            onBackendAcquired(ready);
        }
        // Otherwise the pool calls back; the janitor enforces query_wait_timeout (no timer per wait: under a full
        // pool most transactions wait, and scheduling and cancelling a timer for each was measurable).
    }

    /** Janitor: a client waiting longer than query_wait_timeout gets 53300; a paused pool restarts the clock. */
    private void checkWaitTimeout(long now) {
        if (pool.isPaused()) {
            // PAUSE holds transactions without errors until RESUME.
            waitClockStartNanos = now;
            return;
        }
        if (now - waitClockStartNanos <= pool.settings().queryWaitTimeout().toNanos() || !pool.cancelWait(this)) {
            return;
        }
        context.metrics().timeoutFired("query_wait");
        long waitedMillis = (now - waitStartNanos) / 1_000_000;
        String lastError = pool.lastConnectError();
        ErrorResponse error = ErrorResponse.error("53300", "pgwarden: no server connection available after waiting "
                        + waitedMillis + " ms (query_wait_timeout " + pool.settings().queryWaitTimeout().toMillis()
                        + " ms): " + pool.describe())
                .withDetail(lastError != null ? "last attempt to connect to PostgreSQL failed: " + lastError : null)
                .withHint("raise max_size or query_wait_timeout for this database, or look for clients that hold "
                        + "connections in long transactions");
        failWaitingRequest(error);
    }

    @Override
    public long waitingSinceNanos() {
        return waitStartNanos;
    }

    @Override
    public void onAcquireFailed(ErrorResponse error) {
        failWaitingRequest(ErrorResponse.error(error.sqlstate(), "pgwarden could not log in to PostgreSQL: "
                + error.message()));
    }

    /** No backend: answer the queued requests with the error, as PostgreSQL would answer a failed request. */
    private void failWaitingRequest(ErrorResponse error) {
        if (state == ClientState.LOGIN_WAITING) {
            fatal(ErrorResponse.fatal(error.sqlstate(), error.message()).withDetail(error.detail()));
            return;
        }
        if (state != ClientState.WAITING) {
            return;
        }
        answerQueued(error);
    }

    /** Answers every queued request with {@code error}, without a backend, as PostgreSQL would answer. */
    private void answerQueued(ErrorResponse error) {
        ByteBuf out = channel.alloc().buffer();
        boolean errorSentInBatch = false;
        while (!waitingMessages.isEmpty()) {
            ByteBuf message = waitingMessages.poll();
            byte tag = Frames.tag(message);
            message.release();
            if (tag == Tags.Frontend.QUERY || tag == Tags.Frontend.FUNCTION_CALL) {
                error.encode(out);
                BackendMessages.readyForQuery(out, transactionStatus.wireByte());
            } else if (tag == Tags.Frontend.SYNC) {
                if (!errorSentInBatch) {
                    error.encode(out);
                }
                BackendMessages.readyForQuery(out, transactionStatus.wireByte());
                errorSentInBatch = false;
            } else if (!errorSentInBatch) {
                error.encode(out);
                errorSentInBatch = true;
            }
        }
        discardUntilSync = errorSentInBatch;
        setState(ClientState.IDLE);
        channel.writeAndFlush(out, channel.voidPromise());
        channel.config().setAutoRead(true);
    }

    private void skipUntilSync(ByteBuf message, byte tag) {
        message.release();
        if (tag == Tags.Frontend.SYNC) {
            discardUntilSync = false;
            ByteBuf out = channel.alloc().buffer(6);
            BackendMessages.readyForQuery(out, transactionStatus.wireByte());
            channel.writeAndFlush(out, channel.voidPromise());
        }
    }

    @Override
    public void onBackendAcquired(BackendConnection acquired) {
        if (state != ClientState.WAITING && state != ClientState.LOGIN_WAITING) {
            pool.release(acquired);
            return;
        }
        if (!acquired.isUsable()) {
            pool.discard(acquired, "server connection lost before use");
            waitForBackend();
            return;
        }
        if (state == ClientState.WAITING) {
            long waitedNanos = now() - waitStartNanos;
            pool.stats().addWait(waitedNanos / 1_000);
            if (waitHistogram == null) {
                // Looked up once: finding the labelled series costs more than observing it, on every transaction.
                waitHistogram = context.metrics().waitHistogram(pool.key().database(), pool.key().user());
            }
            waitHistogram.observe(waitedNanos / 1e9);
        }
        link(acquired);
        if (state == ClientState.LOGIN_WAITING) {
            // The client's startup settings go on first, and the login reports the values as the server spells
            // them afterwards, exactly as PostgreSQL's own login would.
            loginParameters = new LinkedHashMap<>(acquired.parameters());
            String sql = settingsFor(acquired);
            if (sql == null) {
                finishLogin(acquired);
                return;
            }
            sendHidden(acquired, sql, message -> {
                if (Frames.tag(message) == Tags.Backend.READY_FOR_QUERY) {
                    finishLogin(acquired);
                }
            });
            acquired.flush();
            return;
        }
        setState(ClientState.LINKED);
        relayAfterLink(acquired);
    }

    /** Sends AuthenticationOk and the rest, then serves (session mode) or gives the backend back (transaction mode). */
    private void finishLogin(BackendConnection acquired) {
        Map<String, String> parameters = loginParameters;
        loginParameters = null;
        settings.wanted().forEach((name, value) -> {
            if (parameters.containsKey(name)) {
                pool.rememberSpelling(name, value, parameters.get(name));
            }
        });
        boolean sessionMode = pool.settings().poolMode() == PoolMode.SESSION;
        key = sessionMode ? context.cancelRegistry().register(this, acquired.processId())
                : context.cancelRegistry().register(this);
        completeLogin(parameters);
        if (pool.settings().poolMode() == PoolMode.TRANSACTION) {
            // This backend only served the login; requests get one when they arrive.
            unlink();
            pool.release(acquired);
            setState(ClientState.IDLE);
            if (!waitingMessages.isEmpty()) {
                waitForBackend();
            } else {
                channel.config().setAutoRead(true);
            }
            return;
        }
        setState(ClientState.LINKED);
        restoreSession(acquired);
        drainWaitingMessages();
    }

    private void relayAfterLink(BackendConnection acquired) {
        replay.onLink();
        if (statements != null && now() - acquired.verifiedAtNanos()
                >= pool.settings().server().replayCheckAfter().toNanos()) {
            // A backend back from a transaction moments ago is all but certainly alive, and under load this Sync
            // would cost PostgreSQL an extra flush per transaction; one that sat idle may have been terminated.
            sendCanary(acquired);
        }
        applySettings(acquired);
        restoreSession(acquired);
        drainWaitingMessages();
    }

    private void drainWaitingMessages() {
        while (state == ClientState.LINKED && !waitingMessages.isEmpty()) {
            ByteBuf message = waitingMessages.poll();
            forwardToBackend(message, Frames.tag(message));
        }
        if (!inClientRead) {
            // Inside a client read the rest of the batch (B/D/E/S after a P) is still to come: flushing now
            // would split it into two writes, and PostgreSQL into two reads. The read's end flushes it all.
            flushPending();
        }
        channel.config().setAutoRead(true);
    }

    private void link(BackendConnection acquired) {
        backend = acquired;
        pending.clear();
        acquired.toLinked(this);
        acquired.setAutoRead(channel.isWritable());
    }

    private void unlink() {
        BackendConnection b = backend;
        if (b != null && b.listener() == this) {
            b.setListener(null);
        }
        backend = null;
    }

    // ---- linked: relaying -------------------------------------------------------------------------

    private void forwardToBackend(ByteBuf message, byte tag) {
        BackendConnection b = backend;
        if (pending.clientOwedNothing()) {
            requestStartNanos = lastActivityNanos;
            queryCancelSent = false;
        }
        if (tag == Tags.Frontend.QUERY || tag == Tags.Frontend.PARSE) {
            noteStatement(message, tag);
        }
        statBytesIn += message.readableBytes();
        if (replay.isOpen()) {
            replay.keep(message);
        }
        if (sessionState != null) {
            sessionState.onClientMessage(message, tag);
        }
        if (statements != null && PreparedStatementRelay.isStatementMessage(tag)) {
            statements.relay(message, tag, b, pending);
            writeSyntheticResponses();
        } else {
            b.write(message);
            pending.clientSent(tag);
        }
        flushBackendPending = true;
        if (!b.isWritable()) {
            channel.config().setAutoRead(false);
        }
    }

    @Override
    public void onBackendMessage(BackendConnection from, ByteBuf message) {
        if (!eventLoop().inEventLoop()) {
            eventLoop().execute(() -> onBackendMessage(from, message));
            return;
        }
        if (from != backend || (state != ClientState.LINKED && state != ClientState.LOGIN_WAITING)) {
            message.release();
            return;
        }
        byte tag = Frames.tag(message);
        if (loginParameters != null && tag == Tags.Backend.PARAMETER_STATUS) {
            // Not yet logged in: these become part of the login's ParameterStatus set.
            io.pgwarden.protocol.ParameterStatus.Entry entry = io.pgwarden.protocol.ParameterStatus.decode(message);
            loginParameters.put(entry.name(), entry.value());
            message.release();
            return;
        }
        if (tag == Tags.Backend.ERROR_RESPONSE && from.announcedFatal()) {
            // A FATAL ends the backend, not the client: the close that follows answers the client with 08006.
            message.release();
            return;
        }
        replay.close();
        PendingResponses.Pending head = pending.head();
        PendingResponses.Action action = pending.onBackendMessage(tag);
        if (tag == Tags.Backend.READY_FOR_QUERY) {
            TransactionStatus now = TransactionStatus.fromWire(Frames.readyForQueryStatus(message));
            if (action == PendingResponses.Action.FORWARD) {
                // Bookkeeping first: the console reads the status from another thread and expects the rest set.
                onClientReadyForQuery(transactionStatus, now);
            }
            transactionStatus = now;
        }
        if (action == PendingResponses.Action.DROP) {
            if (head != null && head.observer() != null) {
                head.observer().onMessage(message);
            }
            message.release();
        } else {
            if (tag == Tags.Backend.COMMAND_COMPLETE) {
                statQueries++;
                noteCommand(message);
            } else if (tag == Tags.Backend.PARAMETER_STATUS) {
                io.pgwarden.protocol.ParameterStatus.Entry entry = io.pgwarden.protocol.ParameterStatus.decode(message);
                if (entry.name().equals("application_name")) {
                    applicationName = entry.value();
                }
            }
            statBytesOut += message.readableBytes();
            channel.write(message, channel.voidPromise());
            if (!channel.isWritable()) {
                from.setAutoRead(false);
            }
        }
        if (from != backend) {
            // An observer (the end of a login) has already handed this backend back.
            return;
        }
        writeSyntheticResponses();
        if (tag == Tags.Backend.READY_FOR_QUERY && transactionStatus == TransactionStatus.IDLE && pending.isQuiet()) {
            if (statements != null && !pinned) {
                finishTransaction(from);
            } else if (settingsChanged) {
                settingsChanged = false;
                readBackSettings(from);
                from.flush();
            }
        }
    }

    /** Bookkeeping for what the operator sees, at each ReadyForQuery the client itself receives. */
    private void onClientReadyForQuery(TransactionStatus before, TransactionStatus now) {
        lastActivityNanos = System.nanoTime();
        if (now == TransactionStatus.IDLE) {
            transactionStartNanos = 0;
            notes.onIdle();
            statTransactions++;
            pool.stats().add(statTransactions, statQueries, statBytesIn, statBytesOut);
            statTransactions = statQueries = statBytesIn = statBytesOut = 0;
        } else if (before == TransactionStatus.IDLE || transactionStartNanos == 0) {
            transactionStartNanos = requestStartNanos;
            notes.onTransactionStart();
        }
    }

    /** Transaction mode, nothing in flight: tidy the backend if the client changed it, then give it back. */
    private void finishTransaction(BackendConnection from) {
        if (settingsChanged) {
            settingsChanged = false;
            readBackSettings(from);
            from.flush();
            return;
        }
        if (listening) {
            listening = false;
            sendHidden(from, "UNLISTEN *", null);
            from.flush();
            return;
        }
        flushClientSoon();
        unlink();
        setState(ClientState.IDLE);
        pool.release(from);
        channel.config().setAutoRead(true);
    }

    /** The client's current settings, read from the server, become what it carries to its next backend. */
    private void readBackSettings(BackendConnection from) {
        sendHidden(from, SessionSettings.readQuery(), message -> {
            if (Frames.tag(message) == Tags.Backend.DATA_ROW) {
                settings.fromServer(ResultMessages.dataRowValues(message));
                from.forgetSettings();
                from.settings().putAll(settings.wanted());
            }
        });
    }

    /** Notes the commands whose effects outlive a transaction: settings, statements, LISTEN. */
    private void noteCommand(ByteBuf commandComplete) {
        byte first = ResultMessages.commandTagFirstByte(commandComplete);
        if (first != 'S' && first != 'R' && first != 'D' && first != 'L') {
            return;
        }
        // Only SET, RESET, LISTEN, DISCARD ALL and DEALLOCATE ALL matter: by length, "SELECT 1" (every pgbench
        // transaction) is ruled out without decoding its tag.
        int tagLength = commandComplete.readableBytes() - Frames.HEADER_LENGTH - 1;
        if (tagLength != 3 && tagLength != 5 && tagLength != 6 && tagLength != 11 && tagLength != 14) {
            return;
        }
        String tag = ResultMessages.commandTag(commandComplete);
        switch (tag) {
            case "SET", "RESET" -> settingsChanged = true;
            case "DISCARD ALL" -> {
                settingsChanged = true;
                if (statements != null) {
                    statements.onDeallocateAll(backend);
                } else {
                    sessionState.onDiscardAll();
                }
            }
            case "DEALLOCATE ALL" -> {
                if (statements != null) {
                    statements.onDeallocateAll(backend);
                } else {
                    sessionState.onDeallocateAll();
                }
            }
            case "LISTEN" -> {
                if (statements != null && !listening) {
                    listening = true;
                    ByteBuf out = channel.alloc().buffer();
                    new ErrorResponse("WARNING", "0A000", "pgwarden: LISTEN has no lasting effect in transaction "
                            + "pooling mode; notifications are delivered only until this transaction ends", null,
                            "Use a database with pool_mode: session for LISTEN/NOTIFY.").encodeAsNotice(out);
                    channel.write(out, channel.voidPromise());
                }
            }
            default -> {
            }
        }
    }

    /** Makes the backend carry this client's settings, before any of the client's own requests. */
    private void applySettings(BackendConnection b) {
        String sql = settingsFor(b);
        if (sql != null) {
            sendHidden(b, sql, null);
            flushBackendPending = true;
        }
    }

    /** The SQL that makes {@code b} carry this client's settings, or null when it already does. */
    private String settingsFor(BackendConnection b) {
        Object stamp = settings.canonical(internSettings);
        if (b.settingsStamp() == stamp) {
            return null;
        }
        String sql = settings.applyTo(b.settings());
        b.setSettingsStamp(stamp);
        return sql;
    }

    private void sendHidden(BackendConnection b, String sql, PendingResponses.Observer observer) {
        ByteBuf out = b.channel().alloc().buffer();
        FrontendMessages.query(out, sql);
        b.write(out);
        pending.add(new PendingResponses.Pending(PendingResponses.Kind.QUERY, PendingResponses.Route.HIDDEN,
                (byte) 0, false, observer, () -> {
                    // The backend's settings are no longer known; forget them so the next client sets its own.
                    log.warn("event=hidden_statement_failed client={} server={} statement=\"{}\"", id, b.id(), sql);
                    b.forgetSettings();
                }));
    }

    /** Writes the responses pgwarden gives itself (for statements it serves from cache) once it is their turn. */
    private void writeSyntheticResponses() {
        byte tag;
        while ((tag = pending.pollSynthetic()) != 0) {
            // Once the client has heard anything of this request, replaying it would answer twice.
            replay.close();
            ByteBuf out = channel.alloc().buffer(5);
            out.writeByte(tag).writeInt(4);
            channel.write(out, channel.voidPromise());
            flushClientPending = true;
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection from) {
        if (!eventLoop().inEventLoop()) {
            eventLoop().execute(() -> onBackendReadComplete(from));
            return;
        }
        flushClientSoon();
    }

    /**
     * Flushes the client once this event-loop round has handled all its ready sockets: answers to many clients
     * then leave in one burst, and a client process serving many connections (pgbench, an app server's pool)
     * wakes once for all of them instead of once for each.
     */
    private void flushClientSoon() {
        if (!clientFlushScheduled) {
            clientFlushScheduled = true;
            channel.eventLoop().execute(deferredClientFlush);
        }
    }

    private void flushClientNow() {
        clientFlushScheduled = false;
        channel.flush();
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection from, boolean writable) {
        if (writable && from == backend) {
            channel.config().setAutoRead(true);
        }
    }

    @Override
    public void onBackendClosed(BackendConnection from, String reason) {
        if (!eventLoop().inEventLoop()) {
            eventLoop().execute(() -> onBackendClosed(from, reason));
            return;
        }
        if (from != backend) {
            return;
        }
        unlink();
        pool.discard(from, reason);
        lastBackendLoss = describeLoss(from);
        if (replay.nothingRanOn(from)) {
            replayElsewhere(from);
            return;
        }
        replay.close();
        if (sessionState != null && sessionState.unrestorableBecause() != null) {
            fatal(ErrorResponse.fatal("08006", "pgwarden: the server connection was lost (" + describeLoss(from)
                    + ") and this session cannot be restored on a new one: " + sessionState.unrestorableBecause()));
            return;
        }
        boolean inTransaction = transactionStatus != TransactionStatus.IDLE;
        boolean owedNothing = pending.clientOwedNothing();
        ServerLossMoment lostDuring = owedNothing ? (inTransaction ? ServerLossMoment.IDLE_IN_TRANSACTION : null)
                : replay.syncAnswered() ? ServerLossMoment.REQUEST_AFTER_CHECK : ServerLossMoment.REQUEST_UNCHECKED;
        log.info("event=client_lost_server client={} server={} in_transaction={} lost_during={} reason=\"{}\"", id,
                from.id(), inTransaction, lostDuring == null ? null : lostDuring.label(), describeLoss(from));
        if (lostDuring != null) {
            context.metrics().clientErrorFromServerLoss(lostDuring);
        }
        if (owedNothing) {
            pending.clear();
            lostTransactionError = inTransaction;
        } else {
            ErrorResponse error = lostConnectionError(inTransaction ? "the transaction was rolled back"
                    : "the request may or may not have been executed");
            ByteBuf out = channel.alloc().buffer();
            byte status = inTransaction ? TransactionStatus.FAILED_TRANSACTION.wireByte()
                    : TransactionStatus.IDLE.wireByte();
            discardUntilSync = pending.answerAllWith(out, error, status);
            channel.writeAndFlush(out, channel.voidPromise());
        }
        if (inTransaction) {
            transactionStatus = TransactionStatus.FAILED_TRANSACTION;
            failedTransactionToRestore = true;
        }
        restoreOnLink = sessionState != null;
        setState(ClientState.IDLE);
        channel.config().setAutoRead(true);
    }

    private ErrorResponse lostConnectionError(String consequence) {
        return ErrorResponse.error("08006", "pgwarden: the server connection was lost; " + consequence)
                .withHint("The client keeps its connection to pgwarden; its next transaction runs on a new server "
                        + "connection.");
    }

    private static String describeLoss(BackendConnection from) {
        return (from.lossReason() != null ? from.lossReason().description() : "closed") + ": " + from.closeReason();
    }

    /** A Sync sent ahead of the transaction's first request, which opens the {@link ReplayWindow}. */
    private void sendCanary(BackendConnection b) {
        replay.open();
        ByteBuf sync = b.channel().alloc().buffer(5);
        FrontendMessages.sync(sync);
        // It goes out in the link's first flush, ahead of the request: if that write fails, the socket was
        // already reset, so the server never read a byte of this request.
        ChannelPromise written = b.channel().newPromise();
        written.addListener(f -> {
            if (!f.isSuccess()) {
                replay.onSyncUndelivered();
            }
        });
        b.channel().write(sync, written);
        pending.addHidden(PendingResponses.Kind.SYNC, false, message -> {
            if (Frames.tag(message) == Tags.Backend.READY_FOR_QUERY) {
                replay.onSyncAnswered();
            }
        });
        flushBackendPending = true;
    }

    /** Nothing of the request ran: send it again, first in line, on another backend. */
    private void replayElsewhere(BackendConnection dead) {
        List<ByteBuf> copies = replay.take();
        for (int i = copies.size() - 1; i >= 0; i--) {
            waitingMessages.addFirst(copies.get(i));
        }
        pending.clear();
        log.info("event=replay client={} messages={} reason=\"{}\"", id, copies.size(),
                describeLoss(dead));
        context.metrics().replayedRequest();
        setState(ClientState.IDLE);
        waitForBackend();
    }

    /**
     * On a new backend after a loss: the session's prepared statements (session mode), then a transaction that
     * has already failed, so the client's ROLLBACK (or anything else) gets exactly PostgreSQL's answer.
     */
    private void restoreSession(BackendConnection b) {
        if (restoreOnLink && sessionState != null && !sessionState.statements().isEmpty()) {
            for (Map.Entry<String, byte[]> statement : sessionState.statements().entrySet()) {
                ByteBuf parse = b.channel().alloc().buffer();
                io.pgwarden.protocol.ExtendedQueryMessages.writeParse(parse, statement.getKey(), statement.getValue());
                b.write(parse);
                pending.addHidden(PendingResponses.Kind.PARSE, false, null);
            }
            // Its own Sync, so a statement that no longer parses cannot make the server skip the client's requests.
            ByteBuf sync = b.channel().alloc().buffer();
            FrontendMessages.sync(sync);
            b.write(sync);
            pending.addHidden(PendingResponses.Kind.SYNC, false, null);
            flushBackendPending = true;
        }
        restoreOnLink = false;
        if (failedTransactionToRestore) {
            failedTransactionToRestore = false;
            ByteBuf out = b.channel().alloc().buffer();
            FrontendMessages.query(out, "BEGIN; DO $pgwarden$ BEGIN RAISE EXCEPTION USING ERRCODE = '08006', MESSAGE = "
                    + "'pgwarden: the server connection was lost; the transaction was rolled back'; END $pgwarden$");
            b.write(out);
            pending.addHidden(PendingResponses.Kind.QUERY, false, null);
            flushBackendPending = true;
        }
    }

    /** Called from any thread by a CancelRequest that named this session's key. */
    void cancelCurrentRequest() {
        BackendConnection b = backend;
        if (b != null) {
            log.info("event=cancel client={} pid={}", id, b.processId());
            context.cancelForwarder().cancel(eventLoop(), b);
        }
    }

    // ---- what operators see, and the timeouts they set ------------------------------------------------

    /**
     * Transaction mode: this client used session state another client must never see (a role, a temporary
     * table), so it keeps its backend until it disconnects; the backend is reset before anyone else gets it.
     */
    private void pin(String why) {
        pinned = true;
        log.info("event=client_pinned client={} pool={} reason=\"{}\"", id, pool.key(), why);
        ByteBuf out = channel.alloc().buffer();
        new ErrorResponse("NOTICE", "01000", "pgwarden: this connection keeps its server connection from now on "
                + "because it used " + why + ", which transaction pooling cannot share", null,
                "Use a session-mode database for this client to avoid holding a server connection per client.")
                .encodeAsNotice(out);
        channel.write(out, channel.voidPromise());
        flushClientPending = true;
    }

    /** Notes the statement for the operator, and acts on what its text says (pinning, DROP DATABASE). */
    private void noteStatement(ByteBuf message, byte tag) {
        byte[] text = notes.note(message, tag, transactionStatus != TransactionStatus.IDLE);
        if (statements != null && !pinned) {
            String why = SessionPinning.reason(text);
            if (why != null) {
                pin(why);
            }
        }
        if (SessionPinning.startsWithIgnoringCase(text, 0, "drop")) {
            String dropped = DropDatabase.target(text);
            if (dropped != null) {
                // Our own idle backends on that database would make it fail with 55006; they go first.
                context.pools().closeIdleBackendsOf(dropped);
            }
        }
    }

    public BackendConnection linkedBackend() {
        return backend;
    }

    /** The pool this client uses, or null before login. */
    public BackendPool pool() {
        return pool;
    }

    /** The state as the admin console names it, from the protocol's point of view. */
    public String describeState() {
        ClientState s = state;
        return switch (s) {
            case STARTUP, AUTHENTICATING, LOGIN_WAITING -> "login";
            case WAITING -> "waiting";
            case CLOSED -> "closed";
            default -> !pending.isQuiet() ? "active"
                    : switch (transactionStatus) {
                        case IDLE -> "idle";
                        case IN_TRANSACTION -> "idle in transaction";
                        case FAILED_TRANSACTION -> "idle in transaction (aborted)";
                    };
        };
    }

    /** A snapshot for SHOW CLIENTS and SHOW LEAKS; safe to call from any thread (best effort). */
    public ClientView view() {
        long now = System.nanoTime();
        BackendConnection b = backend;
        long txStart = transactionStartNanos;
        long statementAt = requestStartNanos;
        return new ClientView(id, startup != null ? startup.user() : null,
                startup != null ? startup.database() : null,
                applicationName, remote(), describeState(),
                (now - connectedAtNanos) / 1_000_000, (now - Math.max(stateSinceNanos, lastActivityNanos)) / 1_000_000,
                txStart == 0 || transactionStatus == TransactionStatus.IDLE ? -1 : (now - txStart) / 1_000_000,
                state == ClientState.WAITING ? (now - waitStartNanos) / 1_000_000 : -1,
                notes.transactionStart(), notes.last(),
                statementAt == 0 ? -1 : (now - statementAt) / 1_000_000, b != null ? b.processId() : 0,
                lastBackendLoss);
    }

    /** Whether this client counts as idle in transaction: holding a transaction open and asking nothing. */
    boolean isIdleInTransaction() {
        return state == ClientState.LINKED && transactionStatus != TransactionStatus.IDLE && pending.isQuiet();
    }

    /** Whether the janitor must look every round: anything but idle has a deadline finer than its sweep. */
    boolean needsWatching() {
        return state != ClientState.IDLE && state != ClientState.CLOSED;
    }

    // Out of setState, which runs three times per transaction and is best kept small enough to inline.
    private void watchIfBusy() {
        if (needsWatching()) {
            watched = true;
            watchlist.add(this);
        }
    }

    boolean isWatched() {
        return watched;
    }

    void unwatched() {
        watched = false;
    }

    /** The janitor's round for this client, on its own event loop: every client timeout lives here. */
    void janitorTick(long now) {
        if (state == ClientState.CLOSED) {
            return;
        }
        if ((state == ClientState.WAITING || state == ClientState.LOGIN_WAITING) && pool != null) {
            checkWaitTimeout(now);
        }
        if (!state.isLoggedIn()) {
            java.time.Duration login = context.config().defaults().client().loginTimeout();
            if (state != ClientState.LOGIN_WAITING && now - connectedAtNanos > login.toNanos()) {
                context.metrics().timeoutFired("login");
                fatal(ErrorResponse.fatal("08P01", "pgwarden: login not completed within client.login_timeout ("
                        + login.toMillis() + " ms)"));
            }
            return;
        }
        if (pool == null) {
            return;
        }
        io.pgwarden.config.ClientSettings client = pool.settings().client();
        long quietFor = now - lastActivityNanos;
        if (state == ClientState.WAITING) {
            long waited = now - waitStartNanos;
            java.time.Duration notice = pool.settings().queryWaitNotice();
            if (!notice.isZero() && !waitNoticeSent && waited > notice.toNanos()) {
                waitNoticeSent = true;
                ByteBuf out = channel.alloc().buffer();
                new ErrorResponse("NOTICE", "00000", "pgwarden: waiting for a server connection for "
                        + waited / 1_000_000 + " ms: " + pool.describe(), null, null).encodeAsNotice(out);
                channel.writeAndFlush(out, channel.voidPromise());
            }
            return;
        }
        if (isIdleInTransaction()) {
            java.time.Duration warning = client.idleInTransactionWarning();
            if (!warning.isZero() && quietFor > warning.toNanos() && warnedForTransactionAt != transactionStartNanos) {
                warnedForTransactionAt = transactionStartNanos;
                ClientView v = view();
                log.warn("event=idle_in_transaction client={} user={} database={} application_name=\"{}\" addr={} "
                                + "xact_age_ms={} idle_ms={} xact_start_statement=\"{}\"", id, v.user(), v.database(),
                        v.applicationName(), v.address(), v.transactionAgeMillis(), quietFor / 1_000_000,
                        v.transactionStartStatement());
                context.events().add(pool.key().toString(), "idle_in_transaction",
                        "client#" + id + " idle in transaction for " + quietFor / 1_000_000 + " ms");
            }
            java.time.Duration timeout = client.idleInTransactionTimeout();
            if (!timeout.isZero() && quietFor > timeout.toNanos()) {
                context.metrics().timeoutFired("idle_in_transaction");
                context.metrics().clientKilled("idle_in_transaction_timeout");
                context.events().add(pool.key().toString(), "client_killed", "client#" + id
                        + " idle in transaction longer than " + timeout.toMillis() + " ms");
                fatal(ErrorResponse.fatal("25P03", "terminating connection due to idle-in-transaction timeout "
                        + "(pgwarden client.idle_in_transaction_timeout " + timeout.toMillis() + " ms); "
                        + "the transaction was rolled back"));
            }
            return;
        }
        if (!pending.isQuiet()) {
            java.time.Duration queryTimeout = pool.settings().queryTimeout();
            BackendConnection b = backend;
            if (!queryTimeout.isZero() && !queryCancelSent && b != null
                    && now - requestStartNanos > queryTimeout.toNanos()) {
                queryCancelSent = true;
                context.metrics().timeoutFired("query");
                log.info("event=query_timeout client={} backend_pid={} after_ms={}", id, b.processId(),
                        (now - requestStartNanos) / 1_000_000);
                context.cancelForwarder().cancel(eventLoop(), b);
            }
            return;
        }
        java.time.Duration idleTimeout = client.idleTimeout();
        if (!idleTimeout.isZero() && transactionStatus == TransactionStatus.IDLE && quietFor > idleTimeout.toNanos()) {
            context.metrics().timeoutFired("client_idle");
            fatal(ErrorResponse.fatal("57P05", "terminating connection due to idle-session timeout (pgwarden "
                    + "client.idle_timeout " + idleTimeout.toMillis() + " ms)"));
        }
    }

    /** Closes this client on an operator's request (KILL_CLIENT). */
    public void kill(String why) {
        eventLoop().execute(() -> {
            context.metrics().clientKilled("admin");
            context.events().add(pool != null ? pool.key().toString() : "-", "client_killed", "client#" + id + ": " + why);
            fatal(ErrorResponse.fatal("57P01", "terminating connection due to administrator command (pgwarden: "
                    + why + ")"));
        });
    }

    // ---- ending -----------------------------------------------------------------------------------

    private void fatal(ErrorResponse error) {
        if (state == ClientState.CLOSED) {
            return;
        }
        ByteBuf out = channel.alloc().buffer();
        error.encode(out);
        channel.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        close(error.sqlstate() + " " + error.message(), false);
    }

    private void close(String reason) {
        close(reason, true);
    }

    /** @param closeChannel false when a pending write closes the channel once the client has its error */
    private void close(String reason, boolean closeChannel) {
        if (state == ClientState.CLOSED) {
            return;
        }
        ClientState previous = state;
        setState(ClientState.CLOSED);
        replay.close();
        waitingMessages.forEach(ByteBuf::release);
        waitingMessages.clear();
        if ((previous == ClientState.WAITING || previous == ClientState.LOGIN_WAITING) && pool != null) {
            // If the pool already handed us a backend, onBackendAcquired sees CLOSED and gives it back.
            pool.cancelWait(this);
        }
        BackendConnection b = backend;
        if (b != null) {
            unlink();
            returnBackend(b);
        }
        context.cancelRegistry().unregister(key);
        context.sessions().remove(this);
        if (previous != ClientState.STARTUP || startup != null) {
            long millis = (System.nanoTime() - connectedAtNanos) / 1_000_000;
            log.info("event=client_close client={} addr={} user={} database={} duration_ms={} reason=\"{}\"", id, remote(),
                    startup != null ? startup.user() : "", startup != null ? startup.database() : "", millis, reason);
        }
        if (closeChannel) {
            channel.close();
        }
    }

    /** Gives the backend back clean, or closes it when what is still in flight on it cannot be known. */
    private void returnBackend(BackendConnection b) {
        if (!b.isUsable()) {
            pool.discard(b, "server connection lost");
            return;
        }
        if (!pending.isQuiet()) {
            context.cancelForwarder().cancel(eventLoop(), b);
            pool.discard(b, "client left with a request in flight");
            return;
        }
        boolean inTransaction = transactionStatus != TransactionStatus.IDLE;
        String resetQuery = pool.settings().poolMode() == PoolMode.SESSION || pinned
                ? pool.settings().serverResetQuery() : null;
        pool.resetAndRelease(b, inTransaction, resetQuery);
    }

    private void writeRaw(char response) {
        ByteBuf out = channel.alloc().buffer(1);
        out.writeByte(response);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private String remote() {
        return String.valueOf(channel.remoteAddress());
    }

    @Override
    public String toString() {
        return "client#" + id;
    }
}
