package io.pgwarden.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgwarden.net.Cumulation;
import io.pgwarden.net.LargeMessages;
import io.pgwarden.net.MessageChunk;
import io.pgwarden.net.MessageHead;
import io.pgwarden.protocol.Frames;
import io.pgwarden.protocol.StartupMessage;
import io.pgwarden.protocol.StartupRequest;
import io.pgwarden.protocol.Tags;
import java.util.List;

/**
 * Cuts the client's byte stream into messages. Emits {@link StartupRequest}s until the StartupMessage,
 * then whole typed messages as retained slices (header included). A Terminate in place of the first startup
 * packet is emitted as {@link #TERMINATE_BEFORE_STARTUP}, and nothing after it.
 *
 * <p>Once {@link #streamLargeMessages() streaming} is on, a Query, CopyData, FunctionCall, unnamed Parse or Bind
 * longer than {@link LargeMessages#STREAM_ABOVE} is not buffered whole: it comes out as a {@link MessageHead}
 * (header and the first {@link LargeMessages#STREAM_PREFIX} bytes of the body, enough for every name pgwarden
 * reads) and then
 * {@link MessageChunk}s of whatever has arrived, so that a 300 MB message holds a read's worth of memory here.
 * Any other message (a named Parse, whose text the session keeps anyway; Describe, Close) is buffered up to the
 * maximum message length as before.
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
    private boolean streaming;
    /** Bytes of the streamed message still to come; 0 between messages. */
    private long streamRemaining;
    /** The message at the reader index is large but buffered whole: its head did not allow streaming. */
    private boolean bufferingWhole;

    public FrontendFrameDecoder() {
        setCumulator(Cumulation.COMPACTING);
    }

    /** Raises the size limit once the client has proved who it is. */
    public void setMaxMessageLength(int maxMessageLength) {
        this.maxMessageLength = maxMessageLength;
    }

    /** For a client session (not the admin console, not replication, which read whole messages only). */
    public void streamLargeMessages() {
        streaming = true;
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
        while (true) {
            if (streamRemaining > 0) {
                int n = (int) Math.min(in.readableBytes(), streamRemaining);
                if (n == 0) {
                    return;
                }
                streamRemaining -= n;
                out.add(new MessageChunk(in.readRetainedSlice(n), streamRemaining == 0));
                continue;
            }
            if (streaming && !bufferingWhole && in.readableBytes() >= Frames.HEADER_LENGTH
                    && in.getInt(in.readerIndex() + 1) - 4 > LargeMessages.STREAM_ABOVE) {
                // Frames checks the length against the limit before anything is buffered for it.
                Frames.readMessage(in.slice(in.readerIndex(), Frames.HEADER_LENGTH), maxMessageLength);
                int headLength = Frames.HEADER_LENGTH + LargeMessages.STREAM_PREFIX;
                if (in.readableBytes() < headLength) {
                    return;
                }
                if (streamable(in)) {
                    streamRemaining = in.getInt(in.readerIndex() + 1) - 4L - LargeMessages.STREAM_PREFIX;
                    out.add(new MessageHead(in.readRetainedSlice(headLength)));
                    continue;
                }
                bufferingWhole = true;
            }
            ByteBuf message = Frames.readMessage(in, maxMessageLength);
            if (message == null) {
                return;
            }
            bufferingWhole = false;
            out.add(message);
        }
    }

    /** Whether what the session reads of the message at the reader index is all in its head. */
    private static boolean streamable(ByteBuf in) {
        int body = in.readerIndex() + Frames.HEADER_LENGTH;
        int end = body + LargeMessages.STREAM_PREFIX;
        return switch (in.getByte(in.readerIndex())) {
            case Tags.Frontend.QUERY, Tags.Frontend.COPY_DATA, Tags.Frontend.FUNCTION_CALL -> true;
            // Unnamed: a named statement's text is kept for as long as the statement lives, so buffering it
            // whole costs nothing more.
            case Tags.Frontend.PARSE -> in.getByte(body) == 0;
            // The portal and statement names, which the session reads (and may rename), come first.
            case Tags.Frontend.BIND -> {
                int portalEnd = in.indexOf(body, end, (byte) 0);
                yield portalEnd >= 0 && in.indexOf(portalEnd + 1, end, (byte) 0) >= 0;
            }
            default -> false;
        };
    }
}
