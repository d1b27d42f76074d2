package io.pgwarden.session;

import io.netty.util.concurrent.Future;
import io.pgwarden.protocol.ErrorResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client side of a graceful stop. Once it begins, a client is closed with FATAL 57P01 the moment it is between
 * transactions (ReadyForQuery 'I' sent and nothing more owed), never in the middle of a response or of a
 * transaction it may still commit; at the deadline the rest are closed as they are.
 *
 * <p>Each check runs on the client's own event loop, after the loop turn that made it idle, so the ReadyForQuery
 * that ended its transaction is written before the FATAL, and a request it has already sent is seen and served.
 */
public final class Drain {

    static final String MESSAGE = "pgwarden is shutting down";
    /** Far above the time a client takes between its login's ReadyForQuery and its first query, even on a busy host. */
    static final long FIRST_REQUEST_GRACE_MILLIS = 2_000;

    private final SessionRegistry sessions;
    private volatile boolean draining;
    private volatile int atStart;
    private final AtomicInteger closedIdle = new AtomicInteger();
    private final AtomicInteger cut = new AtomicInteger();

    /** What the drain did, for its log line. */
    public record Outcome(int closedIdle, int finished, int cut) {
    }

    Drain(SessionRegistry sessions) {
        this.sessions = sessions;
    }

    public boolean isDraining() {
        return draining;
    }

    /** Starts the drain: from now on clients leave at their next transaction boundary. Returns the clients open. */
    public int begin() {
        draining = true;
        List<ClientSession> open = List.copyOf(sessions.all());
        atStart = open.size();
        for (ClientSession s : open) {
            s.eventLoop().execute(() -> {
                if (closeIfBetweenTransactions(s)) {
                    closedIdle.incrementAndGet();
                }
            });
        }
        return open.size();
    }

    /** True once every client is gone. */
    public boolean isEmpty() {
        return sessions.all().isEmpty();
    }

    /** On every state change of a session: one that has just gone idle leaves now (or after its first request). */
    void onTransition(ClientSession s, ClientState previous, ClientState next) {
        if (draining && next == ClientState.IDLE) {
            s.eventLoop().execute(() -> closeIfBetweenTransactions(s));
        }
    }

    /**
     * A client that has sent no request since it connected is given {@link #FIRST_REQUEST_GRACE_MILLIS} to send
     * one: it connected just before the listening socket closed (or was logging in then), and a client that
     * connects to run one transaction (pgbench -C, a script, a rolling restart's traffic) would see a failed
     * connection if the 57P01 came before its first query. It leaves after that transaction, or once the grace has
     * passed without a request (an unused pool connection), or at the deadline.
     */
    private boolean closeIfBetweenTransactions(ClientSession s) {
        if (s.state() != ClientState.IDLE || s.isRefused() || (s.link.isBound() && !s.link.pending().isQuiet())) {
            return false;
        }
        if (s.times.requestStart == 0) {
            s.eventLoop().schedule(() -> {
                if (s.times.requestStart == 0 && closeWhenIdle(s)) {
                    closedIdle.incrementAndGet();
                }
            }, FIRST_REQUEST_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            return false;
        }
        return closeWhenIdle(s);
    }

    private static boolean closeWhenIdle(ClientSession s) {
        if (s.state() != ClientState.IDLE || s.isRefused() || (s.link.isBound() && !s.link.pending().isQuiet())) {
            return false;
        }
        s.fatal(ErrorResponse.fatal("57P01", MESSAGE), ClientCloseReason.SHUTDOWN);
        return true;
    }

    /**
     * The deadline: every client still open is closed, with 57P01 unless a response is being relayed to it (an
     * error in the middle of one would be read as part of it). Waits up to {@code waitMillis} for the closes.
     */
    public void cutTheRest(long waitMillis) {
        List<Future<?>> closing = new ArrayList<>();
        for (ClientSession s : List.copyOf(sessions.all())) {
            closing.add(s.eventLoop().submit(() -> cut(s)));
        }
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        for (Future<?> f : closing) {
            f.awaitUninterruptibly(Math.max(0, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
        }
    }

    private void cut(ClientSession s) {
        ClientState state = s.state();
        if (state == ClientState.CLOSED) {
            return;
        }
        cut.incrementAndGet();
        if (state == ClientState.ACTIVE || state == ClientState.REPLICATION) {
            s.close(ClientCloseReason.SHUTDOWN);
        } else {
            s.fatal(ErrorResponse.fatal("57P01", MESSAGE), ClientCloseReason.SHUTDOWN);
        }
    }

    /** Finished: open when the drain began and gone before its deadline, by finishing their work or by themselves. */
    public Outcome outcome() {
        int idle = closedIdle.get();
        int rest = cut.get();
        return new Outcome(idle, Math.max(0, atStart - idle - rest), rest);
    }
}
