package io.pgwarden.pool;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.Tags;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs the check query on an idle backend: it passes only if PostgreSQL answers without error and ends idle
 * within the check timeout. A backend that fails is never handed to a client.
 */
final class HealthCheck implements BackendListener {

    private final Consumer<Boolean> done;
    private ScheduledFuture<?> timer;
    private boolean failed;
    private boolean finished;

    private HealthCheck(Consumer<Boolean> done) {
        this.done = done;
    }

    /** {@code done} runs once, on the backend's event loop, with the verdict. */
    static void run(BackendConnection backend, String checkQuery, Duration timeout, Consumer<Boolean> done) {
        HealthCheck check = new HealthCheck(done);
        backend.eventLoop().execute(() -> {
            backend.toTesting(check);
            if (!backend.isUsable()) {
                check.finish(false);
                return;
            }
            check.timer = backend.eventLoop().schedule(() -> check.finish(false), timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            ByteBuf query = backend.channel().alloc().buffer();
            FrontendMessages.query(query, checkQuery);
            backend.write(query);
            backend.flush();
        });
    }

    @Override
    public void onBackendMessage(BackendConnection backend, ByteBuf message) {
        try {
            byte tag = Frames.tag(message);
            if (tag == Tags.Backend.ERROR_RESPONSE) {
                failed = true;
            } else if (tag == Tags.Backend.READY_FOR_QUERY) {
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

    private void finish(boolean healthy) {
        if (finished) {
            return;
        }
        finished = true;
        if (timer != null) {
            timer.cancel(false);
        }
        done.accept(healthy);
    }
}
