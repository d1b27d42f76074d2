package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgwarden.net.Cumulation;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.StartupRequest;
import java.util.List;

/**
 * Cuts the client's byte stream into messages. Emits {@link StartupRequest}s until the StartupMessage,
 * then whole typed messages as retained slices (header included). A Terminate in place of the first startup
 * packet is emitted as {@link #TERMINATE_BEFORE_STARTUP}, and nothing after it.
 */
public final class FrontendFrameDecoder extends ByteToMessageDecoder {

    /**
     * node-postgres ends a connection it no longer needs with Terminate ({@code X 00 00 00 04}) even before its
     * StartupMessage. Read as a startup packet its length would be 1.4 GB; PostgreSQL closes without a word.
     */
    public static final Object TERMINATE_BEFORE_STARTUP = new Object() {
        @Override
        public String toString() {
            return "Terminate before any startup packet";
        }
    };
    /** 'X' and the first three bytes of Terminate's length field (its fourth is 4), read as one int. */
    private static final int TERMINATE_PREFIX = 'X' << 24;

    /** Before authentication nothing legitimate is large; this caps what an unknown peer can make us buffer. */
    static final int MAX_MESSAGE_BEFORE_LOGIN = 10_000;

    private enum Phase {
        /** Untyped packets: SSLRequest, GSSENCRequest, CancelRequest or StartupMessage. */
        STARTUP,
        /** Typed messages: 1-byte tag, int32 length, body. */
        MESSAGES,
        /** After a Terminate: whatever else comes is of no interest. */
        ENDED
    }

    private Phase phase = Phase.STARTUP;
    private int maxMessageLength = MAX_MESSAGE_BEFORE_LOGIN;

    public FrontendFrameDecoder() {
        setCumulator(Cumulation.COMPACTING);
    }

    /** Raises the size limit once the client has proved who it is. */
    public void setMaxMessageLength(int maxMessageLength) {
        this.maxMessageLength = maxMessageLength;
    }

    /** Bytes received and not yet decoded: after an SSLRequest, any would have been sent before our answer. */
    public int bufferedBytes() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (phase == Phase.ENDED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (phase == Phase.STARTUP) {
            if (in.readableBytes() >= Integer.BYTES && in.getInt(in.readerIndex()) == TERMINATE_PREFIX) {
                phase = Phase.ENDED;
                in.skipBytes(in.readableBytes());
                out.add(TERMINATE_BEFORE_STARTUP);
                return;
            }
            ByteBuf packet = Frames.readStartupPacket(in);
            if (packet == null) {
                return;
            }
            StartupRequest request;
            try {
                request = StartupRequest.decode(packet);
            } finally {
                packet.release();
            }
            if (request instanceof StartupMessage) {
                phase = Phase.MESSAGES;
            }
            out.add(request);
            return;
        }
        ByteBuf message;
        while ((message = Frames.readMessage(in, maxMessageLength)) != null) {
            out.add(message);
        }
    }
}
