package io.pgwarden.backend;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgwarden.harness.Later;
import io.pgwarden.harness.Wire;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * The pools' way to PostgreSQL in the harness: every connect the pool asks for waits until the test
 * {@link #accept}s it, so a test decides exactly when a backend appears. An accepted backend logs in through the
 * production {@link BackendLogin}, answered as PostgreSQL answers a trusted login.
 */
public final class ScriptedBackends implements BackendOpener {

    /** What PostgreSQL reports at login, as a client of pgwarden is then told. */
    private static final byte[] LOGIN_PARAMETERS = Wire.concat(
            Wire.parameterStatus("server_version", "17.0"),
            Wire.parameterStatus("server_encoding", "UTF8"),
            Wire.parameterStatus("client_encoding", "UTF8"),
            Wire.parameterStatus("DateStyle", "ISO, MDY"),
            Wire.parameterStatus("TimeZone", "UTC"),
            Wire.parameterStatus("integer_datetimes", "on"),
            Wire.parameterStatus("standard_conforming_strings", "on"));
    private static final int FIRST_PROCESS_ID = 1001;

    private record Dial(BackendConnector.Target target, CompletableFuture<BackendConnection> result) {
    }

    private final ByteBufAllocator alloc;
    private final LossCounters losses;
    private final BiConsumer<String, String> lossEvents;
    private final Later later;
    private final Deque<Dial> dials = new ArrayDeque<>();
    private final List<ScriptedBackend> opened = new ArrayList<>();

    public ScriptedBackends(ByteBufAllocator alloc, LossCounters losses, BiConsumer<String, String> lossEvents,
                            Later later) {
        this.alloc = alloc;
        this.losses = losses;
        this.lossEvents = lossEvents;
        this.later = later;
    }

    @Override
    public CompletableFuture<BackendConnection> connect(EventLoop loop, BackendConnector.Target target) {
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        dials.add(new Dial(target, result));
        return result;
    }

    /** Connects the pool asked for that the test has not accepted yet. */
    public int dialsPending() {
        return dials.size();
    }

    /** The oldest pending connect succeeds; by the time this returns the pool has the backend (or handed it on). */
    public ScriptedBackend accept() {
        Dial dial = dials.poll();
        if (dial == null) {
            throw new AssertionError("the pool is not opening any backend");
        }
        BackendConnector.Target target = dial.target();
        int processId = FIRST_PROCESS_ID + opened.size();
        BackendHandler handler = new BackendHandler(losses, lossEvents, target.database() + "/" + target.user());
        EmbeddedChannel channel = new EmbeddedChannel(later.closeHandler(),
                new MessageFrameDecoder(1 << 30), handler);
        channel.config().setAllocator(alloc);
        // Timers (a login deadline, a check timeout) fire only if a test moves this clock.
        channel.freezeTime();
        BackendConnection connection = new BackendConnection(processId, channel,
                InetSocketAddress.createUnresolved(target.host(), target.port()));
        handler.attach(connection);
        ScriptedBackend backend = new ScriptedBackend(connection, channel, later);
        opened.add(backend);
        BackendLogin login = new BackendLogin(target.user(), target.password(), target.database(), dial.result());
        connection.toAuthenticating(login);
        login.start(connection);
        byte[] startup = backend.receivedBytes();
        int protocol = startup.length < 8 ? 0 : java.nio.ByteBuffer.wrap(startup, 4, 4).getInt();
        if (protocol != 3 << 16) {
            throw new AssertionError("expected a StartupMessage for protocol 3.0, got " + Arrays.toString(startup));
        }
        backend.send(Wire.authenticationOk(), LOGIN_PARAMETERS, Wire.backendKeyData(processId, ~processId),
                Wire.readyForQuery('I'));
        return backend;
    }

    /** Every backend accepted so far, in order. */
    public List<ScriptedBackend> opened() {
        return List.copyOf(opened);
    }

    public void finishAll() {
        opened.forEach(ScriptedBackend::finish);
    }
}
