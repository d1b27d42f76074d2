package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgwarden.protocol.ErrorResponse;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * One logged-in connection to PostgreSQL. Its state is written by the pool and the session that holds it;
 * fields read from other event loops are volatile.
 */
public final class BackendConnection {

    /** Named after what the connection is doing, as PgBouncer's server states are. */
    public enum State { CONNECTING, AUTHENTICATING, IDLE, TESTING, LINKED, RESETTING, CLOSED }

    private final long id;
    private final Channel channel;
    private final InetSocketAddress serverAddress;
    private final long createdAtNanos = System.nanoTime();
    private volatile long verifiedAtNanos = createdAtNanos;
    private volatile long lifetimeNanos = Long.MAX_VALUE;
    private volatile BackendListener listener;
    private volatile State state = State.CONNECTING;
    private volatile int processId;
    private volatile int secretKey;
    private volatile Map<String, String> parameters = Map.of();
    private volatile ServerRole roleAtLogin;
    private final LiveRole liveRole = new LiveRole();
    private volatile String closeReason;
    private volatile LossReason lossReason;
    private volatile boolean announcedFatal;
    /** PostgreSQL's FATAL, its code and message only: what a client that loses this backend is told as the cause. */
    private volatile ErrorResponse fatal;
    private volatile int generation;
    private volatile Future<Void> cancelInFlight;
    private final PreparedOnBackend prepared = new PreparedOnBackend();
    /** Settings pgwarden changed on this backend: name to value, null meaning back at the server default. */
    private final java.util.Map<String, String> settings = new java.util.HashMap<>();
    /** Guarded by the owning pool's lock: true while this connection counts against max_size. */
    private boolean counted = true;

    BackendConnection(long id, Channel channel, InetSocketAddress serverAddress) {
        this.id = id;
        this.channel = channel;
        this.serverAddress = serverAddress;
    }

    public long id() {
        return id;
    }

    public Channel channel() {
        return channel;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public InetSocketAddress serverAddress() {
        return serverAddress;
    }

    public BackendListener listener() {
        return listener;
    }

    /** A holder letting go without handing the backend on: its traffic is dropped until someone takes it over. */
    public void setListener(BackendListener listener) {
        this.listener = listener;
    }

    public State state() {
        return state;
    }

    /**
     * The one place the state changes, always together with whoever owns the traffic from now on, so that what
     * SHOW SERVERS reports and who hears the backend's messages never disagree.
     */
    private void moveTo(State next, BackendListener owner) {
        listener = owner;
        state = next;
    }

    void toAuthenticating(BackendListener login) {
        moveTo(State.AUTHENTICATING, login);
    }

    /** Back in the pool. Read all the time while idle, so a FATAL or a close takes it out of the pool at once. */
    public void toIdle(BackendListener pool) {
        moveTo(State.IDLE, pool);
        setAutoRead(true);
    }

    /**
     * Handed to a client. The pool passes null: until the client's session links it on its own loop, nobody is
     * owed anything the backend says.
     */
    public void toLinked(BackendListener client) {
        moveTo(State.LINKED, client);
    }

    /** Taken out of the pool for a health check. */
    public void toTesting(BackendListener check) {
        moveTo(State.TESTING, check);
    }

    /** Made safe for the next client; its last client may have stopped reading, and the answers must come in. */
    public void toResetting(BackendListener reset) {
        moveTo(State.RESETTING, reset);
        setAutoRead(true);
    }

    /** The socket is gone. The listener stays: it is told next. */
    void toClosed() {
        moveTo(State.CLOSED, listener);
    }

    public int processId() {
        return processId;
    }

    public int secretKey() {
        return secretKey;
    }

    void setKey(int processId, int secretKey) {
        this.processId = processId;
        this.secretKey = secretKey;
    }

    /** ParameterStatus values PostgreSQL sent at login. */
    public Map<String, String> parameters() {
        return parameters;
    }

    void setParameters(Map<String, String> parameters) {
        this.parameters = Map.copyOf(parameters);
    }

    /** The server's role at login, or null where the database takes any server and it reported none. */
    public ServerRole roleAtLogin() {
        return roleAtLogin;
    }

    public void setRoleAtLogin(ServerRole role) {
        this.roleAtLogin = role;
    }

    /** Its role as the server reports it since login, and whether it is retired for it. */
    public LiveRole liveRole() {
        return liveRole;
    }

    /**
     * Called by the owning pool under its lock when it stops counting this connection against max_size.
     * @return true the first time only, so a connection is never subtracted twice
     */
    public boolean uncount() {
        boolean was = counted;
        counted = false;
        return was;
    }

    private Object settingsStamp;
    private boolean settingsUnknown;

    public PreparedOnBackend prepared() {
        return prepared;
    }

    /** Session settings this backend carries that differ from its login defaults (holder-confined, like {@link #prepared()}). */
    public java.util.Map<String, String> settings() {
        return settings;
    }

    /**
     * The pool's canonical copy of {@link #settings()} when they were last set to a client's, or null once anyone
     * changed them otherwise: lets a client carrying the same settings skip comparing the maps.
     */
    public Object settingsStamp() {
        return settingsStamp;
    }

    public void setSettingsStamp(Object stamp) {
        settingsStamp = stamp;
    }

    /** The backend is back at its login settings (DISCARD ALL ran), or about to be told what it carries. */
    public void forgetSettings() {
        settings.clear();
        settingsStamp = null;
        settingsUnknown = false;
    }

    /** A statement that set or read the settings failed: the next client's must start from RESET ALL. */
    public void loseSettings() {
        forgetSettings();
        settingsUnknown = true;
    }

    /** Since {@link #loseSettings()}: what {@link #settings()} says may not be what the backend carries. */
    public boolean settingsUnknown() {
        return settingsUnknown;
    }

    public int generation() {
        return generation;
    }

    public void setGeneration(int generation) {
        this.generation = generation;
    }

    public long ageNanos() {
        return System.nanoTime() - createdAtNanos;
    }

    /** When this backend was last known good: answered a client or passed a check. */
    public long verifiedAtNanos() {
        return verifiedAtNanos;
    }

    public void markVerified() {
        verifiedAtNanos = System.nanoTime();
    }

    /** Its age limit, drawn once with jitter so a pool opened at once does not expire at once. */
    public long lifetimeNanos() {
        return lifetimeNanos;
    }

    public void setLifetimeNanos(long lifetimeNanos) {
        this.lifetimeNanos = lifetimeNanos;
    }

    public boolean isUsable() {
        return state != State.CLOSED && channel.isActive();
    }

    /** Ownership of {@code message} passes to Netty. */
    public void write(ByteBuf message) {
        channel.write(message, channel.voidPromise());
    }

    public void flush() {
        channel.flush();
    }

    public void setAutoRead(boolean autoRead) {
        channel.config().setAutoRead(autoRead);
    }

    public boolean isWritable() {
        return channel.isWritable();
    }

    /** pgwarden closes the socket; the first reason recorded is the one reported. */
    public void close(String detail) {
        close(LossReason.CLOSED_BY_PGWARDEN, detail);
    }

    public void close(LossReason reason, String detail) {
        recordLoss(reason, detail);
        channel.close();
    }

    /** Notes why this connection is ending, unless an earlier cause is already known. */
    public synchronized void recordLoss(LossReason reason, String detail) {
        if (lossReason == null) {
            lossReason = reason;
            closeReason = detail;
        }
    }

    /** True once PostgreSQL itself announced the end with a FATAL (as opposed to a silent close). */
    public boolean announcedFatal() {
        return announcedFatal;
    }

    synchronized void markFatal(LossReason reason, String detail, ErrorResponse fatal) {
        announcedFatal = true;
        this.fatal = fatal;
        lossReason = reason;
        closeReason = detail;
    }

    /** The FATAL PostgreSQL ended this session with (severity, code and message only), or null. */
    public ErrorResponse fatal() {
        return fatal;
    }

    public LossReason lossReason() {
        return lossReason;
    }

    /**
     * A cancel is on its way to this backend: until PostgreSQL has it, it must not serve another client, whose
     * request the cancel could hit (PgBouncer's sv_being_canceled).
     */
    public void cancelStarted(Future<Void> delivered) {
        cancelInFlight = delivered;
        delivered.addListener(f -> {
            if (cancelInFlight == delivered) {
                cancelInFlight = null;
            }
        });
    }

    /** The delivery of the latest cancel sent to this backend, or null when it is done. */
    public Future<Void> cancelInFlight() {
        Future<Void> c = cancelInFlight;
        return c == null || c.isDone() ? null : c;
    }

    public String closeReason() {
        return closeReason;
    }

    @Override
    public String toString() {
        return "server#" + id + "(pid " + processId + ")";
    }
}
