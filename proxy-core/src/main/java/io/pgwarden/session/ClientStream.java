package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.backend.BackendConnection;
import io.pgwarden.net.MessageChunk;
import java.util.ArrayDeque;

/**
 * A client message too large to buffer, relayed as it arrives: its head takes the session's usual path (noted,
 * classified from its prefix, queued while there is no backend, relayed by the pooling mode), and its chunks then
 * go straight to the backend the head was written to. While the head waits in the queue, reading from the client
 * stops (the first chunk that arrives meanwhile is held), so a few chunks at most are ever held here; past that,
 * the backend's writability pauses reading as for any message.
 */
final class ClientStream {

    private final ClientSession s;
    /**
     * Messages whose head has not been written yet, oldest first; the last one may still be arriving. More than
     * one only when a client pipelines large messages while waiting for a backend. Made at the first large
     * message: most clients never send one (heap per client counts).
     */
    private ArrayDeque<Waiting> waiting;
    /** Where the message now arriving goes; null before its head is written, or when it goes nowhere. */
    private BackendConnection target;
    /** Between a head and its last chunk. */
    private boolean arriving;
    /** The message now arriving is dropped (its head was refused or answered without a backend). */
    private boolean dropping;

    /** A head not yet written, retained here so that it is recognised when the session forwards it. */
    private static final class Waiting {
        final ByteBuf head;
        final ArrayDeque<ByteBuf> chunks = new ArrayDeque<>(4);
        boolean complete;

        Waiting(ByteBuf head) {
            this.head = head;
        }
    }

    ClientStream(ClientSession session) {
        this.s = session;
    }

    /** Takes ownership of {@code head}. */
    void onHead(ByteBuf head) {
        arriving = true;
        dropping = false;
        target = null;
        if (waiting == null) {
            waiting = new ArrayDeque<>(2);
        }
        waiting.addLast(new Waiting(head.retain()));
        s.onClientMessage(head);
        settle();
    }

    void onChunk(MessageChunk chunk) {
        ByteBuf content = chunk.content();
        if (!arriving) {
            content.release();
            return;
        }
        arriving = !chunk.last();
        settle();
        Waiting last = waiting.peekLast();
        if (last != null) {
            last.chunks.add(content);
            last.complete = chunk.last();
            // The backend that takes the head takes these; until then no more is read.
            s.gate.pause(ReadGate.Reason.QUEUE_FULL);
        } else if (dropping || target == null || target != s.link.backend()) {
            // Dropped, or its backend was lost mid-message: the client has its error already.
            content.release();
        } else {
            write(target, content);
        }
    }

    /** The session wrote {@code message} to its backend (or, in its place, what the pooling mode made of it). */
    void onForward(ByteBuf message) {
        Waiting first = waiting != null ? waiting.peekFirst() : null;
        if (first == null || first.head != message) {
            return;
        }
        waiting.pollFirst();
        first.head.release();
        boolean sent = !s.link.streamHeadDropped;
        s.link.streamHeadDropped = false;
        BackendConnection to = s.link.backend();
        ByteBuf chunk;
        while ((chunk = first.chunks.poll()) != null) {
            if (sent) {
                write(to, chunk);
            } else {
                chunk.release();
            }
        }
        if (waiting.isEmpty() && arriving) {
            target = sent ? to : null;
            dropping = !sent;
        }
    }

    /** A head that left the queue without being forwarded was answered without a backend: drop the rest. */
    private void settle() {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Waiting w = it.next();
            if (!s.queue.contains(w.head)) {
                it.remove();
                release(w);
                if (!it.hasNext() && arriving) {
                    dropping = true;
                }
            }
        }
    }

    private void write(BackendConnection to, ByteBuf chunk) {
        s.link.countIn(chunk);
        to.write(chunk);
        s.link.relayed();
    }

    /** Whether {@code b} has the start of a client message and not yet its end. */
    boolean isMidMessageOn(BackendConnection b) {
        return arriving && !dropping && target == b;
    }

    /**
     * The client is gone. A backend that has part of a message can never be given to anyone else: it waits for
     * the rest, and would read the next client's bytes as its body.
     */
    void onClose() {
        Waiting w;
        while (waiting != null && (w = waiting.poll()) != null) {
            release(w);
        }
        if (target != null && isMidMessageOn(target)) {
            s.pool().discard(target, "the client left in the middle of a message");
        }
        arriving = false;
        target = null;
    }

    private static void release(Waiting w) {
        w.head.release();
        w.chunks.forEach(ByteBuf::release);
        w.chunks.clear();
    }
}
