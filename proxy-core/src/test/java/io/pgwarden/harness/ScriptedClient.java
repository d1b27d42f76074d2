package io.pgwarden.harness;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgwarden.session.ClientSession;
import io.pgwarden.session.ClientState;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * One client connection played by a test: an {@link EmbeddedChannel} with the production client pipeline
 * (FrontendFrameDecoder, ClientHandler), so the test speaks raw protocol bytes and reads what a client would.
 */
public final class ScriptedClient {

    private final EmbeddedChannel channel;
    private final ClientSession session;
    private final Later later;

    ScriptedClient(EmbeddedChannel channel, ClientSession session, Later later) {
        this.channel = channel;
        this.session = session;
        this.later = later;
    }

    /** These messages arrive in one read: one read batch for the session, flushed at its end. */
    public void send(byte[]... messages) {
        later.runAll();
        ByteBuf in = channel.alloc().buffer();
        for (byte[] message : messages) {
            in.writeBytes(message);
        }
        channel.writeInbound(in);
    }

    /**
     * What the client has received since the last look, one description per message. Runs the loop's pending
     * tasks first: pgwarden flushes answers to clients at the end of a loop round, not at once.
     */
    public List<String> received() {
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
        return Wire.split(all.toByteArray()).stream().map(Wire::describeBackend).toList();
    }

    public ClientSession session() {
        return session;
    }

    public ClientState state() {
        later.runAll();
        return session.state();
    }

    /** Whether pgwarden has left the connection open (after running what it had queued, a close included). */
    public boolean isOpen() {
        later.runAll();
        channel.runPendingTasks();
        return channel.isOpen();
    }

    /** The client goes away without Terminate, as a killed process does. */
    public void disconnect() {
        later.closeNow(channel, channel::close);
    }

    void finish() {
        later.closeNow(channel, channel::finishAndReleaseAll);
    }

    @Override
    public String toString() {
        return session.toString();
    }
}
