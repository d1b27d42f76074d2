package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.Tags;
import io.pgwarden.session.notify.NotificationHub;
import io.pgwarden.session.sql.StatementScanner;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * LISTEN in transaction mode, for a client that has used it (others never get one). The client's LISTEN runs on
 * its transaction's backend as any statement does, and gets PostgreSQL's own answer. When the transaction is
 * over, the channels that backend now listens to are read back from the server ({@code pg_listening_channels()},
 * so a rolled-back LISTEN or one inside a function counts exactly as PostgreSQL counted it) and handed to the
 * pool's {@link NotificationHub}. The ReadyForQuery that ends the client's transaction waits until the hub
 * listens too, and the backend keeps listening (and stays with the client) until then; only then does it run
 * {@code UNLISTEN *} and go back to the pool. So once the client has seen its LISTEN done, every notification
 * committed later reaches it through the hub, and none reaches another client. One committed in the instant of
 * the handover itself (the hub's round trip), by someone who cannot yet know the client listens, may arrive twice.
 *
 * <p>UNLISTEN cannot be read back (the shared backend never listened), so it is read from the statements' text:
 * {@code UNLISTEN name} and {@code UNLISTEN *}, each taken as done at its CommandComplete, undone by a ROLLBACK
 * of its transaction, and applied to the hub when the transaction ends.
 */
final class TransactionListening {

    /** Where the handover of the current backend's LISTENs stands. */
    private enum Phase { NONE, LISTENED, READING_BACK, AWAITING_HUB, UNLISTEN_DUE, UNLISTENING }

    /** An {@code UNLISTEN *} seen in the text. */
    private static final Object ALL = new Object();
    /** An UNLISTEN whose channel could not be read. */
    private static final Object UNKNOWN = new Object();

    private Phase phase = Phase.NONE;
    /** The backend whose LISTENs are being handed over. */
    private BackendConnection held;
    /** UNLISTENs seen in statements sent, whose CommandComplete has not come yet: a name, ALL or UNKNOWN. */
    private final ArrayDeque<Object> unlistensSent = new ArrayDeque<>(1);
    private final Set<String> unlistened = new HashSet<>();
    private boolean unlistenedAll;
    private boolean moreListens;
    private StatementScanner scanner;
    /** The ReadyForQuery that ends the client's LISTEN transaction, kept until the hub listens. */
    private ByteBuf heldReady;
    private ClientNotifications delivery;
    private NotificationHub hub;

    /** A LISTEN completed on {@code link}'s backend (its transaction may still roll it back). */
    void onListen(BackendLink link) {
        if (phase == Phase.NONE || held != link.backend()) {
            phase = Phase.LISTENED;
            held = link.backend();
        } else if (phase == Phase.READING_BACK) {
            // After the read-back was sent: it is read again once that one is handed over.
            moreListens = true;
        } else {
            phase = Phase.LISTENED;
        }
    }

    void onUnlisten() {
        Object what = unlistensSent.poll();
        if (what == ALL) {
            unlistenedAll = true;
        } else if (what instanceof String name) {
            unlistened.add(name);
        }
    }

    /** The transaction (or the savepoint) was rolled back, and its UNLISTENs with it. */
    void onRollback() {
        unlistened.clear();
        unlistenedAll = false;
    }

    /** Whether the backend at idle still has LISTEN business: read back, wait for the hub, or UNLISTEN. */
    boolean busyWithBackend() {
        return phase != Phase.NONE;
    }

    /**
     * The transaction that ran LISTEN is over: its ReadyForQuery waits for the handover. Only when nothing else is
     * in flight (the caller checks), so the client's responses stay in order.
     */
    boolean holdsReadyForQuery(ByteBuf readyForQuery) {
        if (phase != Phase.LISTENED || heldReady != null
                || Frames.readyForQueryStatus(readyForQuery) != TransactionStatus.IDLE.wireByte()) {
            return false;
        }
        heldReady = readyForQuery;
        return true;
    }

    /** A client message is about to go: a kept ReadyForQuery must reach the client before any answer to it. */
    void beforeRelay(ByteBuf message, byte tag, BackendLink link) {
        if (heldReady != null) {
            link.writeToClient(heldReady);
            heldReady = null;
        }
        if (tag == Tags.Frontend.QUERY || tag == Tags.Frontend.PARSE) {
            scan(message, tag);
        }
    }

    private void releaseReady(ClientSession s) {
        if (heldReady != null) {
            s.link.writeToClient(heldReady);
            heldReady = null;
            s.link.flush();
        }
    }

    /** The transaction's backend is gone, and its LISTENs with it; the client must not wait for its answer. */
    void onBackendLost(ClientSession s) {
        releaseReady(s);
        phase = Phase.NONE;
        held = null;
    }

    /** Reads the UNLISTENs of a Query or Parse about to be sent. */
    private void scan(ByteBuf message, byte tag) {
        int from = message.readerIndex() + Frames.HEADER_LENGTH;
        int to = message.writerIndex();
        if (tag == Tags.Frontend.PARSE) {
            from = message.indexOf(from, to, (byte) 0) + 1;
            if (from <= 0) {
                return;
            }
        }
        int nul = message.indexOf(from, to, (byte) 0);
        if (nul >= 0) {
            to = nul;
        }
        if (scanner == null) {
            scanner = new StatementScanner();
        }
        StatementScanner s = scanner.reset(message, from, to);
        while (s.nextStatement()) {
            if (s.isKeyword("unlisten")) {
                if (!s.nextToken()) {
                    unlistensSent.add(UNKNOWN);
                } else if (s.isPunctuation('*')) {
                    unlistensSent.add(ALL);
                } else if (s.kind() == StatementScanner.Kind.WORD
                        || s.kind() == StatementScanner.Kind.QUOTED_IDENTIFIER) {
                    unlistensSent.add(s.text());
                } else {
                    unlistensSent.add(UNKNOWN);
                }
            }
        }
        s.clear();
    }

    /**
     * At a ReadyForQuery that left {@code from} idle and quiet: the next step of the handover. False when the
     * backend may go back to the pool now.
     */
    boolean tidy(ClientSession s, BackendConnection from) {
        if (held != from) {
            // That backend was lost, and its LISTENs with it.
            phase = Phase.NONE;
            held = null;
            return false;
        }
        switch (phase) {
            case LISTENED -> readBack(s, from);
            case UNLISTEN_DUE -> unlisten(s);
            case NONE -> {
                return false;
            }
            default -> {
            }
        }
        return true;
    }

    private void readBack(ClientSession s, BackendConnection from) {
        phase = Phase.READING_BACK;
        List<String> channels = new ArrayList<>();
        s.link.hidden().query("SELECT pg_catalog.pg_listening_channels()", message -> {
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.DATA_ROW) {
                // Consecutive DataRows come as one run.
                for (int at = message.readerIndex(); at < message.writerIndex(); ) {
                    int length = message.getInt(at + 1) + 1;
                    channels.add(ResultMessages.dataRowValues(message.slice(at, length)).get(0));
                    at += length;
                }
            } else if (tag == Tags.Backend.READY_FOR_QUERY && phase == Phase.READING_BACK) {
                handOver(s, from, channels);
            }
        }, null);
        s.link.flushBackend();
    }

    private void handOver(ClientSession s, BackendConnection from, List<String> channels) {
        boolean again = moreListens;
        moreListens = false;
        if (channels.isEmpty()) {
            // Rolled back, or unlistened in the same transaction: the backend listens to nothing.
            phase = again ? Phase.LISTENED : Phase.NONE;
            held = again ? from : null;
            releaseReady(s);
            return;
        }
        phase = again ? Phase.LISTENED : Phase.AWAITING_HUB;
        hub(s).subscribe(delivery, channels, () -> {
            if (phase != Phase.AWAITING_HUB || held != from) {
                releaseReady(s);
                return;
            }
            phase = Phase.UNLISTEN_DUE;
            // Idle on it still: finish now. Otherwise the client's next idle moment does.
            if (s.link.backend() == from && s.link.pending().isQuiet() && s.state() == ClientState.IDLE) {
                unlisten(s);
            } else {
                releaseReady(s);
            }
        });
    }

    private void unlisten(ClientSession s) {
        phase = Phase.UNLISTENING;
        s.link.hidden().query("UNLISTEN *", message -> {
            if (Frames.tag(message) == Tags.Backend.READY_FOR_QUERY && phase == Phase.UNLISTENING) {
                phase = Phase.NONE;
                held = null;
                // Only now: a notification the client's next step causes must come through the hub alone.
                releaseReady(s);
            }
        }, null);
        s.link.flushBackend();
    }

    /** The client is quiet outside a transaction: its UNLISTENs take effect, and what was kept for it is written. */
    void afterIdle(ClientSession s) {
        // Nothing is in flight: an UNLISTEN still listed here failed, and must not be matched to a later one.
        unlistensSent.clear();
        if (delivery == null) {
            onRollback();
            return;
        }
        if (unlistenedAll) {
            hub.unsubscribe(delivery, null);
        } else if (!unlistened.isEmpty()) {
            hub.unsubscribe(delivery, unlistened);
        }
        onRollback();
        delivery.deliverIfIdle();
    }

    void onClientWritable() {
        if (delivery != null) {
            delivery.deliverIfIdle();
        }
    }

    void onClose() {
        if (heldReady != null) {
            heldReady.release();
            heldReady = null;
        }
        if (delivery != null) {
            delivery.close();
            hub.unsubscribe(delivery, null);
        }
    }

    private NotificationHub hub(ClientSession s) {
        if (hub == null) {
            hub = s.poolClients.notifications(s.pool(), s.eventLoop());
            delivery = new ClientNotifications(s);
        }
        return hub;
    }
}
