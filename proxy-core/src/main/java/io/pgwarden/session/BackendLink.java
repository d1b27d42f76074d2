package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.net.MessageChunk;
import io.pgwarden.pool.PoolStats;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.ParameterStatus;
import io.pgwarden.protocol.Tags;
import java.util.Map;

/**
 * A client's connection to the backend serving it now: what the backend still owes ({@link PendingResponses}),
 * the requests pgwarden slips in ahead of the client's ({@link HiddenRequests}), the answers it gives itself, and when each side is
 * flushed. It is the backend's listener while bound; callbacks from a backend it is no longer bound to, still
 * queued on the loop, are dropped here and nowhere else.
 */
final class BackendLink implements BackendListener {

    private final Channel client;
    private final BackendLinkEvents events;
    private final ReplayWindow replay;
    private final ReadGate gate;
    private final PendingResponses pending = new PendingResponses();
    private final CopyIn copyIn = new CopyIn();
    private final HiddenRequests hidden;
    private final ReadOnlyReplay readOnly;
    private volatile BackendConnection backend;
    /** A backend given up with work still owed on it, and who now reads that work's answers. */
    private BackendConnection handedFrom;
    private BackendListener handedTo;
    /** During login: the ParameterStatus values the client will be told, as the backend reports them. */
    private Map<String, String> loginParameters;
    /** The pooling mode sent something else in place of a streamed head: its rest must not follow (ClientStream). */
    boolean streamHeadDropped;
    /** The backend's last message was a partial head that went to the client: its chunks follow it there. */
    private boolean chunksToClient;
    private final LinkFlushes flushes;
    // Traffic since the last ReadyForQuery idle, added to the pool's stats there (once per transaction).
    private long queries;
    private long bytesIn;
    private long bytesOut;

    BackendLink(Channel client, BackendLinkEvents events, ServerLossRecovery recovery, ReadGate gate) {
        this.client = client;
        this.events = events;
        this.replay = recovery.replay();
        this.gate = gate;
        this.flushes = new LinkFlushes(client, this::backend);
        this.hidden = new HiddenRequests(this, replay);
        this.readOnly = new ReadOnlyReplay(this, events, gate, client.eventLoop());
        recovery.watchReadOnly(readOnly);
    }

    void bind(BackendConnection b) {
        backend = b;
        pending.clear();
        copyIn.reset();
        b.toLinked(this);
        b.setAutoRead(client.isWritable());
    }

    /** Stops listening to the backend and returns it (null when none was bound). */
    BackendConnection unbind() {
        BackendConnection b = backend;
        if (b != null && b.listener() == this) {
            b.setListener(null);
        }
        readOnly.beforeOtherWrite();
        backend = null;
        gate.resume(ReadGate.Reason.BACKEND_BACKLOG);
        return b;
    }

    /**
     * After {@link #unbind()}, on the client's loop: answers from {@code b} already on their way here go to
     * {@code to}, which listens to {@code b} from now on.
     */
    void handOver(BackendConnection b, BackendListener to) {
        handedFrom = b;
        handedTo = to;
    }

    boolean isBound() {
        return backend != null;
    }

    /** The bound backend, or null; read by the console from other threads. */
    BackendConnection backend() {
        return backend;
    }

    io.netty.buffer.ByteBufAllocator clientAlloc() {
        return client.alloc();
    }

    PendingResponses pending() {
        return pending;
    }

    CopyIn copyIn() {
        return copyIn;
    }

    /** What pgwarden sends the backend on its own account, ahead of what the client sends next. */
    HiddenRequests hidden() {
        return hidden;
    }

    void captureLoginParameters(Map<String, String> parameters) {
        loginParameters = parameters;
    }

    // ---- towards the backend ------------------------------------------------------------------

    /** A client message, relayed as is; ownership passes on. */
    void send(ByteBuf message, byte tag) {
        bytesIn += message.readableBytes();
        backend.write(message);
        pending.clientSent(tag);
        relayed();
    }

    /** After anything was written to the backend: flush at the read batch's end, and stop reading if it is full. */
    void relayed() {
        flushes.backendWritten();
        if (!backend.isWritable()) {
            gate.pause(ReadGate.Reason.BACKEND_BACKLOG);
        }
    }

    /** Something was written to the backend outside {@link #send}: it goes out with this read batch's flush. */
    void backendWritten() {
        flushes.backendWritten();
    }

    void countIn(ByteBuf message) {
        bytesIn += message.readableBytes();
    }

    /** Takes the backend out of COPY FROM STDIN in place of a client message of type {@code tag} it cannot take. */
    void abortCopy(byte tag) {
        ByteBuf fail = backend.channel().alloc().buffer();
        FrontendMessages.copyFail(fail, "pgwarden: the client sent an unexpected message during COPY");
        backend.write(fail);
        copyIn.aborting(tag);
        flushes.backendWritten();
    }

    // ---- towards the client -------------------------------------------------------------------

    /** Written now, flushed at the end of this read batch or event-loop round. */
    void writeToClient(ByteBuf out) {
        readOnly.beforeOtherWrite();
        client.write(out, client.voidPromise());
        flushes.clientWritten();
    }

    /** Writes the responses pgwarden gives itself (for statements it serves from cache) once it is their turn. */
    void writeSyntheticResponses() {
        byte tag;
        while ((tag = pending.pollSynthetic()) != 0) {
            // Once the client has heard anything of this request, replaying it would answer twice.
            replay.close();
            ByteBuf out = client.alloc().buffer(5);
            out.writeByte(tag).writeInt(4);
            if (!readOnly.active() || !readOnly.holds(out, tag)) {
                writeToClient(out);
            }
        }
    }

    void flushBackend() {
        flushes.flushBackend();
    }

    /** See {@link LinkFlushes#flush}. */
    void flush() {
        flushes.flush();
    }

    /** See {@link LinkFlushes#flushClientSoon}. */
    void flushClientSoon() {
        flushes.flushClientSoon();
    }

    void onClientWritabilityChanged(boolean writable) {
        BackendConnection b = backend;
        if (b != null) {
            b.setAutoRead(writable);
        }
    }

    /** The transaction's traffic goes to the pool's totals. */
    void transactionDone(PoolStats stats) {
        stats.add(1, queries, bytesIn, bytesOut);
        queries = bytesIn = bytesOut = 0;
    }

    // ---- from the backend ---------------------------------------------------------------------

    @Override
    public void onBackendMessage(BackendConnection from, ByteBuf received) {
        ByteBuf message = received;
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> onBackendMessage(from, received));
            return;
        }
        if (from != backend) {
            if (from == handedFrom) {
                handedTo.onBackendMessage(from, message);
            } else {
                message.release();
            }
            return;
        }
        chunksToClient = false;
        readOnly.beforeBackendMessage();
        byte tag = Frames.tag(message);
        if (loginParameters != null && tag == Tags.Backend.PARAMETER_STATUS) {
            // Not yet logged in: these become part of the login's ParameterStatus set.
            ParameterStatus.Entry entry = ParameterStatus.decode(message);
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
        CopyIn.Seen copy = copyIn.onBackendMessage(tag);
        if (copy == CopyIn.Seen.STARTED) {
            pending.copyInStarted();
        }
        PendingResponses.Action action = pending.onBackendMessage(tag);
        if (copy == CopyIn.Seen.REPLACE_ERROR) {
            message.release();
            message = copyIn.error(client.alloc());
        } else if (copy == CopyIn.Seen.DROP) {
            action = PendingResponses.Action.DROP;
        }
        if (action == PendingResponses.Action.DROP) {
            if (tag == Tags.Backend.READY_FOR_QUERY) {
                events.onReadyForQuery(TransactionStatus.fromWire(Frames.readyForQueryStatus(message)), false);
            }
            if (head != null && head.observer() != null) {
                head.observer().onMessage(message);
            }
            message.release();
            afterRouted(from, tag);
        } else if (tag == Tags.Backend.READY_FOR_QUERY) {
            if (!readOnly.active() || !readOnly.atReadyForQuery(from, message)) {
                routeReadyForQuery(from, message);
            }
        } else {
            toClient(from, message, tag);
            afterRouted(from, tag);
        }
    }

    /** A ReadyForQuery owed to the client, told to the session and (unless the session keeps it) relayed. */
    void routeReadyForQuery(BackendConnection from, ByteBuf message) {
        events.onReadyForQuery(TransactionStatus.fromWire(Frames.readyForQueryStatus(message)), true);
        readOnly.onReadyForQueryToClient();
        if (!pending.isQuiet() || !events.holdsReadyForQuery(message)) {
            toClient(from, message, Tags.Backend.READY_FOR_QUERY);
        }
        afterRouted(from, Tags.Backend.READY_FOR_QUERY);
    }

    private void afterRouted(BackendConnection from, byte tag) {
        if (from != backend) {
            // An observer (the end of a login) has already handed this backend back.
            return;
        }
        writeSyntheticResponses();
        if (tag == Tags.Backend.READY_FOR_QUERY) {
            events.afterReadyForQuery(from);
        }
    }

    private void toClient(BackendConnection from, ByteBuf message, byte tag) {
        if (tag == Tags.Backend.COMMAND_COMPLETE) {
            queries++;
            events.onCommandComplete(message);
        } else if (tag == Tags.Backend.PARAMETER_STATUS) {
            ParameterStatus.Entry entry = ParameterStatus.decode(message);
            if (entry.name().equals("application_name")) {
                events.onApplicationName(entry.value());
            }
        }
        if (tag == Tags.Backend.DATA_ROW || tag == Tags.Backend.COPY_DATA) {
            chunksToClient = Frames.isPartial(message);
        }
        if (!readOnly.active() || !readOnly.holds(message, tag)) {
            toClient(from, message);
        }
    }

    private void toClient(BackendConnection from, ByteBuf message) {
        bytesOut += message.readableBytes();
        client.write(message, client.voidPromise());
        if (!client.isWritable() && from != null) {
            from.setAutoRead(false);
        }
    }

    /** What {@link ReadOnlyReplay} held back, now let through in order. */
    void writeHeld(ByteBuf message) {
        toClient(backend, message);
        flushes.clientWritten();
    }

    @Override
    public boolean takesChunks() {
        return true;
    }

    @Override
    public void onBackendChunk(BackendConnection from, MessageChunk chunk) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> onBackendChunk(from, chunk));
            return;
        }
        if (from == backend && chunksToClient) {
            chunksToClient = !chunk.last();
            toClient(from, chunk.content());
        } else if (from != backend && from == handedFrom) {
            handedTo.onBackendChunk(from, chunk);
        } else {
            // The rest of a row pgwarden's own query asked for, or of a backend no longer this client's.
            chunk.content().release();
        }
    }

    @Override
    public void onBackendReadComplete(BackendConnection from) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> onBackendReadComplete(from));
            return;
        }
        flushClientSoon();
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection from, boolean writable) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> onBackendWritabilityChanged(from, writable));
            return;
        }
        if (writable && from == backend) {
            gate.resume(ReadGate.Reason.BACKEND_BACKLOG);
        }
    }

    @Override
    public void onBackendClosed(BackendConnection from, String reason) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> onBackendClosed(from, reason));
            return;
        }
        if (from == backend) {
            readOnly.beforeLoss();
            if (from == backend) {
                events.onBackendLost(from, reason);
            }
        } else if (from == handedFrom) {
            handedTo.onBackendClosed(from, reason);
        }
    }
}
