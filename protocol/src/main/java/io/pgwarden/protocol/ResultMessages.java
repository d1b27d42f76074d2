package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Peeks into result messages: the command tag of CommandComplete and the values of a DataRow. */
public final class ResultMessages {

    private ResultMessages() {
    }

    /** The first byte of a CommandComplete's tag: a cheap filter before {@link #commandTag}. */
    public static byte commandTagFirstByte(ByteBuf commandComplete) {
        return commandComplete.getByte(commandComplete.readerIndex() + Frames.HEADER_LENGTH);
    }

    /** The tag of a CommandComplete, such as "SET", "DISCARD ALL" or "SELECT 1". */
    public static String commandTag(ByteBuf commandComplete) {
        int from = commandComplete.readerIndex() + Frames.HEADER_LENGTH;
        int nul = commandComplete.indexOf(from, commandComplete.writerIndex(), (byte) 0);
        if (nul < 0) {
            throw new ProtocolException("unterminated CommandComplete tag");
        }
        return commandComplete.toString(from, nul - from, StandardCharsets.UTF_8);
    }

    /** The text values of a DataRow; SQL NULL becomes null. */
    public static List<String> dataRowValues(ByteBuf dataRow) {
        int position = dataRow.readerIndex() + Frames.HEADER_LENGTH;
        int end = dataRow.writerIndex();
        if (end - position < 2) {
            throw new ProtocolException("truncated DataRow");
        }
        int columns = dataRow.getUnsignedShort(position);
        position += 2;
        List<String> values = new ArrayList<>(columns);
        for (int i = 0; i < columns; i++) {
            if (end - position < 4) {
                throw new ProtocolException("truncated DataRow");
            }
            int length = dataRow.getInt(position);
            position += 4;
            if (length < 0) {
                values.add(null);
                continue;
            }
            if (end - position < length) {
                throw new ProtocolException("truncated DataRow");
            }
            values.add(dataRow.toString(position, length, StandardCharsets.UTF_8));
            position += length;
        }
        return values;
    }
}
