package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.Tags;
import java.util.function.LongConsumer;

/**
 * Reads the answer to a statement Describe into one number: the parameter types and, per result column, its
 * name, type and type modifier, which are what a client learns of a prepared statement and what PostgreSQL
 * checks before it lets a statement prepared under an older schema run ("cached plan must not change result
 * type"). Two copies of a statement with the same shape cannot be told apart by a client.
 */
final class StatementShape implements PendingResponses.Observer {

    private final LongConsumer onKnown;
    private long hash = 17;

    StatementShape(LongConsumer onKnown) {
        this.onKnown = onKnown;
    }

    @Override
    public void onMessage(ByteBuf message) {
        byte tag = Frames.tag(message);
        int at = message.readerIndex() + Frames.HEADER_LENGTH;
        if (tag == Tags.Backend.PARAMETER_DESCRIPTION) {
            int count = message.getUnsignedShort(at);
            mix(count);
            for (int i = 0; i < count; i++) {
                mix(message.getInt(at + 2 + 4 * i));
            }
        } else if (tag == Tags.Backend.ROW_DESCRIPTION) {
            int count = message.getUnsignedShort(at);
            mix(-1 - count);
            at += 2;
            for (int i = 0; i < count; i++) {
                int nul = message.indexOf(at, message.writerIndex(), (byte) 0);
                for (int b = at; b < nul; b++) {
                    mix(message.getByte(b));
                }
                // Table and column number are left out: PostgreSQL does not compare them either.
                at = nul + 1 + 4 + 2;
                mix(message.getInt(at));
                mix(message.getInt(at + 4 + 2));
                at += 4 + 2 + 4 + 2;
            }
            done();
        } else if (tag == Tags.Backend.NO_DATA) {
            mix(-2);
            done();
        }
    }

    private void mix(long value) {
        hash = (hash ^ value) * 0x100000001b3L;
    }

    private void done() {
        // 0 stands for "not known yet".
        onKnown.accept(hash == 0 ? 1 : hash);
    }
}
