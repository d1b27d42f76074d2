package io.pgwarden.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.Tags;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Simple queries pgwarden sends for itself on a backend no client holds (the health check, the reset before
 * reuse), judged as one: clean only if PostgreSQL answers each without an error and the last leaves the backend
 * idle. A close, or no verdict within the timeout, is not clean.
 */
final class OneShotQuery implements BackendListener {

    private final Consumer<Boolean> verdict;
    private int answersOwed;
    private boolean failed;
    private boolean finished;
    private ScheduledFuture<?> timer;

    private OneShotQuery(int answersOwed, Consumer<Boolean> verdict) {
        this.answersOwed = answersOwed;
        this.verdict = verdict;
    }

    /**
     * Takes {@code backend} over with {@code claim}, which names what it is now doing, and sends {@code queries}.
     * {@code verdict} runs once, on the backend's event loop; a zero timeout waits as long as it takes.
     */
    static void send(BackendConnection backend, BiConsumer<BackendConnection, BackendListener> claim,
                     List<String> queries, Duration timeout, Consumer<Boolean> verdict) {
        OneShotQuery query = new OneShotQuery(queries.size(), verdict);
        EventLoop loop = backend.eventLoop();
        // On the backend's loop the verdict can never race the answers or the close that decide it.
        if (loop.inEventLoop()) {
            query.start(backend, claim, queries, timeout);
        } else {
            loop.execute(() -> query.start(backend, claim, queries, timeout));
        }
    }

    private void start(BackendConnection backend, BiConsumer<BackendConnection, BackendListener> claim,
                       List<String> queries, Duration timeout) {
        claim.accept(backend, this);
        if (!backend.isUsable()) {
            finish(false);
            return;
        }
        if (!timeout.isZero()) {
            timer = backend.eventLoop().schedule(() -> finish(false), timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        // Each query is its own message: DISCARD ALL refuses to run inside the implicit transaction of a
        // multi-statement query.
        for (String sql : queries) {
            ByteBuf out = backend.channel().alloc().buffer();
            FrontendMessages.query(out, sql);
            backend.write(out);
        }
        backend.flush();
    }

    @Override
    public void onBackendMessage(BackendConnection backend, ByteBuf message) {
        try {
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.ERROR_RESPONSE) {
                failed = true;
            } else if (tag == Tags.Backend.READY_FOR_QUERY && --answersOwed == 0) {
                finish(!failed && Frames.readyForQueryStatus(message) == 'I');
            }
        } finally {
            message.release();
        }
    }

    @Override
    public void onBackendClosed(BackendConnection backend, String reason) {
        finish(false);
    }

    private void finish(boolean clean) {
        if (finished) {
            return;
        }
        finished = true;
        if (timer != null) {
            timer.cancel(false);
        }
        verdict.accept(clean);
    }
}
