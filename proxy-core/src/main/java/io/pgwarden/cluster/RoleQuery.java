package io.pgwarden.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.backend.BackendLoginException;
import io.pgwarden.backend.LossReason;
import io.pgwarden.backend.ServerRole;
import io.pgwarden.config.ServerSettings;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.ResultMessages;
import io.pgwarden.protocol.Tags;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Learns a fresh backend's role by asking, for a server that reports neither {@code in_hot_standby} nor
 * {@code default_transaction_read_only} at login (PostgreSQL before 14): libpq asks such servers the same. Runs
 * before the backend is handed to a pool, and gives the backend back to its login's listener when done. The
 * answer is the server's, so it is checked as strictly as any other message; anything else than the one row
 * expected, an error, a close or no answer in time fails the open.
 */
final class RoleQuery implements BackendListener {

    static final String SQL =
            "SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only')";

    private final CompletableFuture<ServerRole> result = new CompletableFuture<>();
    private final BackendListener before;
    private ServerRole role;
    private ScheduledFuture<?> timer;

    private RoleQuery(BackendListener before) {
        this.before = before;
    }

    /** The role the server reported at login; empty if it reported none, or when told to ask regardless. */
    static Optional<ServerRole> reported(BackendConnection backend, boolean askAlways) {
        return askAlways ? Optional.empty() : ServerRole.of(backend.parameters());
    }

    /**
     * The reported role, or the asked one. Fails with a {@link BackendLoginException} (the backend then closed)
     * when the server does not answer as it should; {@code loginStartedNanos} starts the connect_timeout the
     * question shares with the login, as libpq's does.
     */
    static CompletableFuture<ServerRole> learn(BackendConnection backend, ServerSettings server,
                                               long loginStartedNanos, boolean askAlways) {
        Optional<ServerRole> known = reported(backend, askAlways);
        if (known.isPresent()) {
            return CompletableFuture.completedFuture(known.get());
        }
        Duration left = server.connectTimeout().minusNanos(System.nanoTime() - loginStartedNanos);
        Duration timeout = left.isNegative() || left.isZero() ? server.checkTimeout() : left;
        RoleQuery query = new RoleQuery(backend.listener());
        EventLoop loop = backend.eventLoop();
        // On the backend's loop the answer, a close and the timeout can never race one another.
        if (loop.inEventLoop()) {
            query.start(backend, timeout);
        } else {
            loop.execute(() -> query.start(backend, timeout));
        }
        return query.result;
    }

    private void start(BackendConnection backend, Duration timeout) {
        backend.setListener(this);
        if (!backend.isUsable()) {
            fail(backend, "08006", "the server closed the connection before it was asked its role");
            return;
        }
        timer = backend.eventLoop().schedule(() -> fail(backend, "08006",
                "no answer within " + timeout.toMillis() + " ms to the query for the server's role"),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        ByteBuf out = backend.channel().alloc().buffer();
        FrontendMessages.query(out, SQL);
        backend.write(out);
        backend.flush();
    }

    @Override
    public void onBackendMessage(BackendConnection backend, ByteBuf message) {
        try {
            if (result.isDone()) {
                return;
            }
            switch (Frames.tag(message)) {
                case Tags.Backend.ROW_DESCRIPTION -> expectTwoColumns(message);
                case Tags.Backend.DATA_ROW -> role = parse(message);
                case Tags.Backend.COMMAND_COMPLETE, Tags.Backend.NOTICE_RESPONSE, Tags.Backend.PARAMETER_STATUS -> {
                    // Nothing to learn from these; a server may send the last two at any time.
                }
                case Tags.Backend.ERROR_RESPONSE -> fail(backend, "08001",
                        "the query for the server's role failed: " + ErrorResponse.decode(message).message());
                case Tags.Backend.READY_FOR_QUERY -> answered(backend, Frames.readyForQueryStatus(message));
                default -> fail(backend, "08P01", "unexpected " + Tags.describeBackend(Frames.tag(message))
                        + " in the answer to the query for the server's role");
            }
        } catch (RuntimeException e) {
            fail(backend, "08P01", "malformed answer to the query for the server's role: " + e.getMessage());
        } finally {
            message.release();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        fail(backend, "08006", "the server closed the connection when asked its role: " + reason);
        if (before != null) {
            // The login's listener is told too, as it would have been without the question.
            before.onBackendClosed(backend, reason);
        }
    }

    private static void expectTwoColumns(ByteBuf rowDescription) {
        if (rowDescription.readableBytes() < Frames.HEADER_LENGTH + 2
                || rowDescription.getUnsignedShort(rowDescription.readerIndex() + Frames.HEADER_LENGTH) != 2) {
            throw new IllegalArgumentException("a RowDescription not of two columns");
        }
    }

    private ServerRole parse(ByteBuf dataRow) {
        // Rows that follow one another arrive as one run (Frames.readRun): a longer slice is more than one row.
        if (role != null || Frames.declaredSize(dataRow) != dataRow.readableBytes()) {
            throw new IllegalArgumentException("more than one row");
        }
        List<String> values = ResultMessages.dataRowValues(dataRow);
        if (values.size() != 2) {
            throw new IllegalArgumentException("a row of " + values.size() + " values, not 2");
        }
        return new ServerRole(flag(values.get(0), "t", "f"), flag(values.get(1), "on", "off"));
    }

    private static boolean flag(String value, String yes, String no) {
        if (yes.equals(value)) {
            return true;
        }
        if (no.equals(value)) {
            return false;
        }
        throw new IllegalArgumentException("a value that is neither " + yes + " nor " + no);
    }

    private void answered(BackendConnection backend, byte status) {
        if (role == null) {
            fail(backend, "08P01", "no row in the answer to the query for the server's role");
        } else if (status != 'I') {
            fail(backend, "08P01", "a transaction left open by the query for the server's role");
        } else {
            finish(backend);
            result.complete(role);
        }
    }

    private void fail(BackendConnection backend, String sqlstate, String why) {
        if (result.isDone()) {
            return;
        }
        finish(backend);
        backend.close(LossReason.CLOSED_BY_PGWARDEN, why);
        result.completeExceptionally(new BackendLoginException(ErrorResponse.fatal(sqlstate, why), false));
    }

    private void finish(BackendConnection backend) {
        if (timer != null) {
            timer.cancel(false);
        }
        if (backend.listener() == this) {
            backend.setListener(before);
        }
    }
}
