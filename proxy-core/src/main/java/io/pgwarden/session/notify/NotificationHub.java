package io.pgwarden.session.notify;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.backend.BackendListener;
import io.pgwarden.log.LogValues;
import io.pgwarden.protocol.ErrorResponse;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.FrontendMessages;
import io.pgwarden.protocol.Tags;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pool's listening backend in transaction mode: it LISTENs to every channel some client of the pool listens
 * to, and hands each NotificationResponse to those clients. It exists only while some client listens, so a pool
 * whose clients never LISTEN has none. Its state is confined to one event loop; callers on any thread hop there.
 *
 * <p>The backend is opened with the pool's login but outside its max_size: it serves no client's requests, and
 * counting it would take a slot from them. If it is lost it is reopened with backoff and every channel listened
 * to again; what was notified meanwhile is lost, as it is for a PostgreSQL session that dies.
 */
public final class NotificationHub implements BackendListener {

    /** A client's end: told on its own loop, and given ownership of each message. */
    public interface Subscriber {
        EventLoop eventLoop();

        void onNotification(ByteBuf notificationResponse);
    }

    private static final Logger log = LoggerFactory.getLogger(NotificationHub.class);
    private static final long FIRST_RETRY_MILLIS = 100;
    private static final long MAX_RETRY_MILLIS = 2_000;
    static final String APPLICATION_NAME = "pgwarden notifications";

    /** One channel: who listens, whether our backend has been told, and who waits until it listens. */
    private static final class Channel {
        final Set<Subscriber> subscribers = new LinkedHashSet<>();
        /** The last command sent for it was LISTEN. */
        boolean sent;
        /** That LISTEN has been answered: notifications on it reach us. */
        boolean live;
        List<Runnable> waiting;
    }

    private final String pool;
    private final EventLoop loop;
    private final Function<EventLoop, CompletableFuture<BackendConnection>> opener;
    private final Map<String, Channel> channels = new HashMap<>();
    /** What to run at each ReadyForQuery still owed by the backend, in order. */
    private final ArrayDeque<Runnable> answersOwed = new ArrayDeque<>();
    private BackendConnection backend;
    private boolean opening;
    private boolean retryScheduled;
    private int failures;

    /** @param opener opens a logged-in backend of the pool on the given loop, outside the pool's count */
    public NotificationHub(String pool, EventLoop loop, Function<EventLoop, CompletableFuture<BackendConnection>> opener) {
        this.pool = pool;
        this.loop = loop;
        this.opener = opener;
    }

    /**
     * Adds {@code subscriber} to {@code names}; {@code whenListening} then runs on the subscriber's loop once the
     * hub receives every one of them (or once it has given up for now, its backend being unreachable).
     */
    public void subscribe(Subscriber subscriber, Collection<String> names, Runnable whenListening) {
        List<String> copy = List.copyOf(names);
        onOwnLoop(() -> {
            int[] owed = {0};
            Runnable one = () -> {
                if (--owed[0] == 0) {
                    onLoopOf(subscriber, whenListening);
                }
            };
            for (String name : copy) {
                Channel channel = channels.computeIfAbsent(name, n -> new Channel());
                channel.subscribers.add(subscriber);
                if (!channel.live) {
                    owed[0]++;
                    if (channel.waiting == null) {
                        channel.waiting = new ArrayList<>(1);
                    }
                    channel.waiting.add(one);
                }
            }
            if (owed[0] == 0) {
                onLoopOf(subscriber, whenListening);
            }
            reconcile();
        });
    }

    /** Removes {@code subscriber} from {@code names}, or from every channel when null. */
    public void unsubscribe(Subscriber subscriber, Collection<String> names) {
        List<String> copy = names == null ? null : List.copyOf(names);
        onOwnLoop(() -> {
            for (Channel channel : copy == null ? channels.values() : copy.stream().map(channels::get).toList()) {
                if (channel != null) {
                    channel.subscribers.remove(subscriber);
                }
            }
            reconcile();
        });
    }

    /** Makes the backend listen to exactly the channels someone listens to; opens or closes it as needed. */
    private void reconcile() {
        channels.values().removeIf(c -> c.subscribers.isEmpty() && !c.sent && c.waiting == null);
        if (channels.isEmpty()) {
            if (backend != null && answersOwed.isEmpty()) {
                BackendConnection b = backend;
                backend = null;
                log.info("event=notification_server_close pool={} server={} reason=\"no client listens\"", pool,
                        b.id());
                b.close("no client listens any more");
            }
            return;
        }
        if (backend == null) {
            open();
            return;
        }
        StringBuilder sql = new StringBuilder();
        List<Channel> listened = new ArrayList<>();
        for (Map.Entry<String, Channel> e : channels.entrySet()) {
            Channel channel = e.getValue();
            boolean wanted = !channel.subscribers.isEmpty();
            if (wanted && !channel.sent) {
                channel.sent = true;
                listened.add(channel);
                sql.append("LISTEN ").append(quote(e.getKey())).append(';');
            } else if (!wanted && channel.sent) {
                channel.sent = false;
                channel.live = false;
                sql.append("UNLISTEN ").append(quote(e.getKey())).append(';');
            }
        }
        if (sql.isEmpty()) {
            return;
        }
        send(sql.toString(), () -> {
            for (Channel channel : listened) {
                if (channel.sent) {
                    channel.live = true;
                    release(channel);
                }
            }
            reconcile();
        });
    }

    private void send(String sql, Runnable atReady) {
        ByteBuf out = backend.channel().alloc().buffer();
        FrontendMessages.query(out, sql);
        backend.write(out);
        backend.flush();
        answersOwed.add(atReady);
    }

    private void open() {
        if (opening || retryScheduled) {
            return;
        }
        opening = true;
        opener.apply(loop).whenComplete((b, error) -> onOwnLoop(() -> opened(b, error)));
    }

    private void opened(BackendConnection b, Throwable error) {
        opening = false;
        if (b == null) {
            failures++;
            log.warn("event=notification_server_open_failed pool={} reason={}", pool,
                    LogValues.quote(error.getCause() != null ? error.getCause().getMessage() : error.getMessage()));
            // Clients waiting to hand their LISTEN over must not hold their backends until PostgreSQL is back.
            channels.values().forEach(this::release);
            retryLater();
            return;
        }
        failures = 0;
        backend = b;
        b.toLinked(this);
        b.setAutoRead(true);
        log.info("event=notification_server_open pool={} server={} pid={} channels={}", pool, b.id(),
                b.processId(), channels.size());
        // Tells operators in pg_stat_activity what this session is.
        send("SET application_name = '" + APPLICATION_NAME + "'", this::reconcile);
        reconcile();
    }

    private void retryLater() {
        if (retryScheduled) {
            return;
        }
        retryScheduled = true;
        long delay = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(Math.max(failures - 1, 0), 10));
        loop.schedule(() -> {
            retryScheduled = false;
            reconcile();
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void release(Channel channel) {
        List<Runnable> waiting = channel.waiting;
        channel.waiting = null;
        if (waiting != null) {
            waiting.forEach(Runnable::run);
        }
    }

    @Override
    public void onBackendMessage(BackendConnection from, ByteBuf message) {
        try {
            if (from != backend) {
                return;
            }
            switch (Frames.tag(message)) {
                case Tags.Backend.NOTIFICATION_RESPONSE -> fanOut(message);
                case Tags.Backend.READY_FOR_QUERY -> {
                    Runnable next = answersOwed.poll();
                    if (next != null) {
                        next.run();
                    }
                }
                case Tags.Backend.ERROR_RESPONSE -> log.warn("event=notification_server_error pool={} server={} "
                        + "error={}", pool, from.id(), LogValues.quote(ErrorResponse.decode(message).message()));
                default -> {
                }
            }
        } finally {
            message.release();
        }
    }

    private void fanOut(ByteBuf message) {
        int from = message.readerIndex() + Frames.HEADER_LENGTH + 4;
        int nul = message.indexOf(from, message.writerIndex(), (byte) 0);
        if (nul < 0) {
            return;
        }
        Channel channel = channels.get(message.toString(from, nul - from, StandardCharsets.UTF_8));
        if (channel == null) {
            return;
        }
        for (Subscriber subscriber : channel.subscribers) {
            ByteBuf copy = message.retainedDuplicate();
            try {
                subscriber.eventLoop().execute(() -> subscriber.onNotification(copy));
            } catch (RuntimeException e) {
                copy.release();
            }
        }
    }

    @Override
    public void onBackendClosed(BackendConnection from, String reason) {
        if (!loop.inEventLoop()) {
            onOwnLoop(() -> onBackendClosed(from, reason));
            return;
        }
        if (from != backend) {
            return;
        }
        backend = null;
        answersOwed.clear();
        for (Channel channel : channels.values()) {
            channel.sent = false;
            channel.live = false;
            release(channel);
        }
        log.warn("event=notification_server_lost pool={} server={} channels={} reason={}", pool, from.id(),
                channels.size(), LogValues.quote(reason));
        failures++;
        retryLater();
    }

    /** A proxy shutting down has stopped the loop, and everything on it is going anyway. */
    private void onOwnLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("event=notification_hub_stopped pool={}", pool);
        }
    }

    /** Runs on the subscriber's loop. */
    private static void onLoopOf(Subscriber subscriber, Runnable task) {
        try {
            subscriber.eventLoop().execute(task);
        } catch (RejectedExecutionException e) {
            // Its loop has stopped: the client is gone with it.
        }
    }

    /** A channel name as a quoted identifier: exactly as pg_listening_channels() reported it. */
    static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
