package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads and renames the statement names in Parse, Bind, Describe and Close, which is all a pooler must
 * understand of them to move prepared statements between backends. Renaming keeps the rest of the message
 * (query text, parameter values) as a retained slice rather than a copy.
 * All methods take whole messages (header included) and never move their reader index.
 */
public final class ExtendedQueryMessages {

    /** Describe/Close target kinds. */
    public static final byte STATEMENT = 'S';
    public static final byte PORTAL = 'P';

    /** Bind parameters up to this size are copied when the statement is renamed. */
    public static final int MAX_COPIED_BIND_REST = 8 * 1024;

    private ExtendedQueryMessages() {
    }

    /** True when the first name field (Parse's statement, Bind's portal) is empty: the cheap check for the common case. */
    public static boolean firstNameIsEmpty(ByteBuf message) {
        return message.getByte(message.readerIndex() + Frames.HEADER_LENGTH) == 0;
    }

    /** The statement name of a Parse. */
    public static String parseStatementName(ByteBuf parse) {
        return cString(parse, parse.readerIndex() + Frames.HEADER_LENGTH);
    }

    /** Everything in a Parse after the statement name: query text and parameter types, as a copy to keep. */
    public static byte[] parseBody(ByteBuf parse) {
        int bodyStart = afterCString(parse, parse.readerIndex() + Frames.HEADER_LENGTH);
        byte[] body = new byte[parse.writerIndex() - bodyStart];
        parse.getBytes(bodyStart, body);
        return body;
    }

    /** The query text of a Parse body (as returned by {@link #parseBody}), for logs and error messages. */
    public static String queryOf(byte[] parseBody) {
        int end = 0;
        while (end < parseBody.length && parseBody[end] != 0) {
            end++;
        }
        return new String(parseBody, 0, end, StandardCharsets.UTF_8);
    }

    /** Writes a Parse for {@code statementName} with a body taken from another Parse. */
    public static void writeParse(ByteBuf out, String statementName, byte[] parseBody) {
        int lengthIndex = MessageWriter.begin(out, Tags.Frontend.PARSE);
        MessageWriter.cString(out, statementName);
        out.writeBytes(parseBody);
        MessageWriter.end(out, lengthIndex);
    }

    /** The statement name of a Bind (its second field, after the portal name). */
    public static String bindStatementName(ByteBuf bind) {
        return cString(bind, afterCString(bind, bind.readerIndex() + Frames.HEADER_LENGTH));
    }

    /** Whether a Bind names the statement whose UTF-8 name is {@code statementName}, decoding nothing. */
    public static boolean bindNamesStatement(ByteBuf bind, byte[] statementName) {
        int from = afterCString(bind, bind.readerIndex() + Frames.HEADER_LENGTH);
        if (bind.writerIndex() - from <= statementName.length || bind.getByte(from + statementName.length) != 0) {
            return false;
        }
        for (int i = 0; i < statementName.length; i++) {
            if (bind.getByte(from + i) != statementName[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * A Bind like {@code bind} that names the statement {@code statementName} (UTF-8); {@code bind} itself is left
     * to its owner. Parameters up to {@link #MAX_COPIED_BIND_REST} bytes are copied into one buffer, which costs
     * less than a composite's bookkeeping and its socket write; bigger ones are kept as a retained slice.
     */
    public static ByteBuf renameBindStatement(ByteBufAllocator alloc, ByteBuf bind, byte[] statementName) {
        int start = bind.readerIndex();
        int portalEnd = afterCString(bind, start + Frames.HEADER_LENGTH);
        int restStart = afterCString(bind, portalEnd);
        int portalLength = portalEnd - (start + Frames.HEADER_LENGTH);
        int restLength = bind.writerIndex() - restStart;
        // The declared length, not what is here: a streamed Bind's head carries only the start of its parameters,
        // the rest follows it to the server as it arrives.
        int declaredRest = (int) (start + Frames.declaredSize(bind) - restStart);
        int headLength = Frames.HEADER_LENGTH + portalLength + statementName.length + 1;
        boolean copyRest = restLength <= MAX_COPIED_BIND_REST;
        ByteBuf head = alloc.buffer(copyRest ? headLength + restLength : headLength);
        head.writeByte(Tags.Frontend.BIND);
        head.writeInt(4 + portalLength + statementName.length + 1 + declaredRest);
        head.writeBytes(bind, start + Frames.HEADER_LENGTH, portalLength);
        head.writeBytes(statementName).writeByte(0);
        if (copyRest) {
            return head.writeBytes(bind, restStart, restLength);
        }
        CompositeByteBuf renamed = alloc.compositeBuffer(2);
        renamed.addComponents(true, head, bind.retainedSlice(restStart, restLength));
        return renamed;
    }

    /** 'S' or 'P' of a Describe or Close. */
    public static byte targetKind(ByteBuf describeOrClose) {
        return describeOrClose.getByte(describeOrClose.readerIndex() + Frames.HEADER_LENGTH);
    }

    /** Whether a (checked) Describe or Close names the unnamed statement or portal; reads a byte, builds nothing. */
    public static boolean targetIsUnnamed(ByteBuf describeOrClose) {
        return describeOrClose.getByte(describeOrClose.readerIndex() + Frames.HEADER_LENGTH + 1) == 0;
    }

    /** The statement or portal name of a Describe or Close. */
    public static String targetName(ByteBuf describeOrClose) {
        return cString(describeOrClose, describeOrClose.readerIndex() + Frames.HEADER_LENGTH + 1);
    }

    /** Writes a Describe or Close ({@code tag}) of a statement or portal. */
    public static void writeTarget(ByteBuf out, byte tag, byte kind, String name) {
        int lengthIndex = MessageWriter.begin(out, tag);
        out.writeByte(kind);
        MessageWriter.cString(out, name);
        MessageWriter.end(out, lengthIndex);
    }

    private static int afterCString(ByteBuf message, int from) {
        int nul = message.indexOf(from, message.writerIndex(), (byte) 0);
        if (nul < 0) {
            throw new ProtocolException("unterminated string in " + Tags.describeFrontend(Frames.tag(message)));
        }
        return nul + 1;
    }

    private static String cString(ByteBuf message, int from) {
        int end = afterCString(message, from) - 1;
        return message.toString(from, end - from, StandardCharsets.UTF_8);
    }
}
