package io.pgwarden.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgwarden.harness.Later;
import io.pgwarden.harness.Wire;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * One PostgreSQL backend played by a test: a real {@link BackendConnection} whose channel is an
 * {@link EmbeddedChannel} with the production decoder and {@link BackendHandler}, so what the test sends goes
 * through the same code as bytes read from a socket, and a close is seen as a socket's end.
 */
public final class ScriptedBackend {

    private final BackendConnection connection;
    private final EmbeddedChannel channel;
    private final Later later;

    ScriptedBackend(BackendConnection connection, EmbeddedChannel channel, Later later) {
        this.connection = connection;
        this.channel = channel;
        this.later = later;
    }

    public BackendConnection connection() {
        return connection;
    }

    public int processId() {
        return connection.processId();
    }

    public BackendConnection.State state() {
        later.runAll();
        return connection.state();
    }

    public boolean isOpen() {
        later.runAll();
        return channel.isOpen();
    }

    /** What pgwarden wrote to this backend since the last look, one description per message. */
    public List<String> received() {
        return Wire.split(receivedBytes()).stream().map(Wire::describeFrontend).toList();
    }

    /** The same, as the bytes on the wire. */
    public byte[] receivedBytes() {
        later.runAll();
        channel.runPendingTasks();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteBuf written;
        while ((written = channel.readOutbound()) != null) {
            try {
                byte[] bytes = new byte[written.readableBytes()];
                written.readBytes(bytes);
                all.writeBytes(bytes);
            } finally {
                written.release();
            }
        }
        return all.toByteArray();
    }

    /** These messages arrive in one read, as PostgreSQL writes a response in one go. */
    public void send(byte[]... messages) {
        later.runAll();
        ByteBuf in = channel.alloc().buffer();
        for (byte[] message : messages) {
            in.writeBytes(message);
        }
        channel.writeInbound(in);
    }

    /** PostgreSQL ends the session as it does: a FATAL, then the socket closes. */
    public void terminate(String sqlstate, String message) {
        send(Wire.fatal(sqlstate, message));
        closeSocket();
    }

    /** The socket ends without a word from PostgreSQL (a crash, a reset, a cut network). */
    public void closeSocket() {
        later.closeNow(channel, channel::close);
    }

    void finish() {
        later.closeNow(channel, channel::finishAndReleaseAll);
    }

    @Override
    public String toString() {
        return connection.toString();
    }
}
