package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A transaction's first request, sent from idle to a backend whose server took writes, is answered to the client
 * only once its first result shows it ran: a primary fenced or demoted under a live backend answers it with
 * SQLSTATE 25006 (read_only_sql_transaction). When that error comes for the first statement (nothing before it
 * completed but BEGIN), ends the request rolled back (ReadyForQuery 'I', or 'E' which the backend's close rolls
 * back), and the server reported in the same answer that it no longer takes writes, and a fresh login to it
 * confirms that (so the change was the server's, not a SET of the client's own), the request provably changed
 * nothing: it is sent again, once, on a new backend (which the pool finds on the new primary), and the client
 * never hears of it. Otherwise the client gets what PostgreSQL sent, in order.
 *
 * <p>Only the start of the answer is held (parse, bind and describe results, notices, BEGIN's completion), never
 * rows: the first result of any other kind lets everything through, so a transaction pays a few list entries.
 * The requests are kept by reference with their start offsets, not copied.
 */
final class ReadOnlyReplay {

    private static final int MAX_HELD = 32;
    private static final int MAX_KEPT_BYTES = 1 << 16;
    private static final String READ_ONLY_SQL_TRANSACTION = "25006";

    private enum State { OFF, HOLDING, ERRORED, AWAITING }

    private final BackendLink link;
    private final BackendLinkEvents events;
    private final ReadGate gate;
    private final io.netty.channel.EventLoop clientLoop;
    private State state = State.OFF;
    private final List<ByteBuf> kept = new ArrayList<>(4);
    private int[] keptFrom = new int[4];
    private int keptBytes;
    /** The request's Sync or Query is kept: anything sent after it is another request. */
    private boolean terminated;
    /** Something else was sent to the backend while the verdict was awaited: its answers must follow ours. */
    private boolean spoiled;
    private final List<ByteBuf> held = new ArrayList<>(8);
    private BackendConnection awaitingOn;
    /** The request now on its way was sent again already: a second 25006 goes to the client. */
    private boolean replayedOnce;

    ReadOnlyReplay(BackendLink link, BackendLinkEvents events, ReadGate gate, io.netty.channel.EventLoop clientLoop) {
        this.link = link;
        this.events = events;
        this.gate = gate;
        this.clientLoop = clientLoop;
    }

    boolean active() {
        return state != State.OFF;
    }

    /** A client message on its way to the link's backend; the caller still owns it. */
    void onForward(ByteBuf message, byte tag) {
        if (state == State.OFF) {
            // A message streamed as it arrives is not kept whole, so it could not be sent again.
            if (replayedOnce || Frames.isPartial(message) || !link.pending().clientOwedNothing() || !mayHold()) {
                return;
            }
            state = State.HOLDING;
            terminated = false;
            spoiled = false;
        } else if (terminated || tag == Tags.Frontend.FLUSH || Frames.isPartial(message)
                || keptBytes + message.readableBytes() > MAX_KEPT_BYTES) {
            // A Flush asks for the answers so far now: holding them would leave the client waiting.
            giveUp();
            return;
        }
        if (kept.size() == keptFrom.length) {
            keptFrom = java.util.Arrays.copyOf(keptFrom, keptFrom.length * 2);
        }
        keptFrom[kept.size()] = message.readerIndex();
        kept.add(message.retain());
        keptBytes += message.readableBytes();
        terminated = tag == Tags.Frontend.SYNC || tag == Tags.Frontend.QUERY || tag == Tags.Frontend.FUNCTION_CALL;
    }

    private boolean mayHold() {
        BackendConnection b = link.backend();
        if (b == null || !b.liveRole().writesExpected()) {
            return false;
        }
        ServerRole now = b.liveRole().current();
        return now != null && now.acceptsWrites() && events.replaysReadOnlyErrors();
    }

    /** A ReadyForQuery reached the client: the next request may be sent again if it meets a demotion. */
    void onReadyForQueryToClient() {
        replayedOnce = false;
    }

    /**
     * A message for the client, its bookkeeping done: true when it is held back (this now owns it), false when
     * the caller writes it, after what was held.
     */
    boolean holds(ByteBuf message, byte tag) {
        if (held.size() < MAX_HELD) {
            if (state == State.ERRORED) {
                // What follows the error up to ReadyForQuery: notices, and the ParameterStatus that told of it.
                held.add(message);
                return true;
            }
            if (state == State.HOLDING && (tag == Tags.Backend.ERROR_RESPONSE ? isReadOnlyError(message)
                    : startsAnswer(message, tag))) {
                if (tag == Tags.Backend.ERROR_RESPONSE) {
                    state = State.ERRORED;
                }
                held.add(message);
                return true;
            }
        }
        giveUp();
        return false;
    }

    /**
     * The request's ReadyForQuery, before the session hears of it: true when this takes it (it is sent again, or
     * it waits for the server's role to be confirmed), false when it goes its usual way.
     */
    boolean atReadyForQuery(BackendConnection from, ByteBuf readyForQuery) {
        if (state != State.ERRORED || !qualifies(from, Frames.readyForQueryStatus(readyForQuery))) {
            giveUp();
            return false;
        }
        held.add(readyForQuery);
        CompletableFuture<Boolean> demotion = from.liveRole().demotion();
        awaitingOn = from;
        state = State.AWAITING;
        if (demotion.isDone()) {
            decide(Boolean.TRUE.equals(demotion.getNow(false)));
        } else {
            gate.pause(ReadGate.Reason.VERDICT);
            demotion.whenComplete((confirmed, error) -> clientLoop.execute(() -> {
                if (state == State.AWAITING && awaitingOn == from) {
                    gate.resume(ReadGate.Reason.VERDICT);
                    decide(Boolean.TRUE.equals(confirmed));
                    link.flush();
                }
            }));
        }
        return true;
    }

    private boolean qualifies(BackendConnection from, byte status) {
        ServerRole now = from.liveRole().current();
        return terminated && link.pending().isQuiet() && (status == 'I' || status == 'E') && now != null
                && !now.acceptsWrites() && from.liveRole().demotion() != null;
    }

    /** The backend closed: held answers go out first, or, while the verdict was awaited, the request is sent again. */
    void beforeLoss() {
        if (state == State.OFF) {
            return;
        }
        if (state == State.AWAITING && !spoiled) {
            gate.resume(ReadGate.Reason.VERDICT);
            decide(true);
        } else if (state == State.AWAITING) {
            gate.resume(ReadGate.Reason.VERDICT);
            close();
        } else {
            giveUp();
        }
    }

    /** The backend says more while the verdict is awaited (something was sent after all): ours goes first. */
    void beforeBackendMessage() {
        if (state == State.AWAITING) {
            deliver();
        }
    }

    /** A message went to the client another way: what was held goes first. */
    void beforeOtherWrite() {
        if (state == State.OFF) {
            return;
        } else if (state == State.AWAITING) {
            spoiled = true;
        } else {
            giveUp();
        }
    }

    private void decide(boolean demoted) {
        if (!demoted || spoiled) {
            deliver();
            return;
        }
        release(held);
        List<ByteBuf> requests = new ArrayList<>(kept.size());
        for (int i = 0; i < kept.size(); i++) {
            requests.add(kept.get(i).readerIndex(keptFrom[i]));
        }
        kept.clear();
        keptBytes = 0;
        state = State.OFF;
        replayedOnce = true;
        BackendConnection from = awaitingOn;
        awaitingOn = null;
        events.onReadOnlyReplay(from, requests);
    }

    /** The client gets the answer as PostgreSQL sent it, ReadyForQuery last through the session's usual path. */
    private void deliver() {
        ByteBuf readyForQuery = held.remove(held.size() - 1);
        BackendConnection from = awaitingOn;
        awaitingOn = null;
        gate.resume(ReadGate.Reason.VERDICT);
        state = State.HOLDING;
        giveUp();
        link.routeReadyForQuery(from, readyForQuery);
    }

    /** Lets everything held through, in order, and holds nothing more for this request. */
    private void giveUp() {
        if (state == State.AWAITING) {
            spoiled = true;
            return;
        }
        for (ByteBuf message : held) {
            link.writeHeld(message);
        }
        held.clear();
        release(kept);
        keptBytes = 0;
        state = State.OFF;
    }

    /** The session ends: nothing more goes anywhere. */
    void close() {
        release(held);
        release(kept);
        keptBytes = 0;
        awaitingOn = null;
        state = State.OFF;
    }

    private static void release(List<ByteBuf> messages) {
        messages.forEach(ByteBuf::release);
        messages.clear();
    }

    /** Answers that change nothing on the server: what may come before the first statement's result. */
    private static boolean startsAnswer(ByteBuf message, byte tag) {
        return switch (tag) {
            case Tags.Backend.PARSE_COMPLETE, Tags.Backend.BIND_COMPLETE, Tags.Backend.CLOSE_COMPLETE,
                 Tags.Backend.PARAMETER_DESCRIPTION, Tags.Backend.ROW_DESCRIPTION, Tags.Backend.NO_DATA,
                 Tags.Backend.NOTICE_RESPONSE, Tags.Backend.PARAMETER_STATUS -> true;
            case Tags.Backend.COMMAND_COMPLETE -> isBegin(message);
            default -> false;
        };
    }

    private static final byte[] BEGIN = {'B', 'E', 'G', 'I', 'N', 0};

    private static boolean isBegin(ByteBuf commandComplete) {
        int start = commandComplete.readerIndex() + Frames.HEADER_LENGTH;
        if (commandComplete.writerIndex() - start != BEGIN.length) {
            return false;
        }
        for (int i = 0; i < BEGIN.length; i++) {
            if (commandComplete.getByte(start + i) != BEGIN[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean isReadOnlyError(ByteBuf error) {
        try {
            return READ_ONLY_SQL_TRANSACTION.equals(ErrorResponse.decode(error).sqlstate());
        } catch (RuntimeException malformed) {
            return false;
        }
    }
}
