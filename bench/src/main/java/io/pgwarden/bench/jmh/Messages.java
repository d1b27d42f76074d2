package io.pgwarden.bench.jmh;

import io.netty.buffer.ByteBuf;

/** Backend messages written by hand, byte for byte as PostgreSQL sends them, for the benchmarks' input. */
final class Messages {

    private Messages() {
    }

    /** DataRow ('D') with one text column of {@code columnBytes} bytes. */
    static void writeDataRow(ByteBuf out, int columnBytes) {
        out.writeByte('D');
        out.writeInt(4 + 2 + 4 + columnBytes);
        out.writeShort(1);
        out.writeInt(columnBytes);
        for (int i = 0; i < columnBytes; i++) {
            out.writeByte('0' + i % 10);
        }
    }

    /** CommandComplete ('C') with tag "SELECT n". */
    static void writeCommandComplete(ByteBuf out, int rows) {
        byte[] tag = ("SELECT " + rows).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.writeByte('C');
        out.writeInt(4 + tag.length + 1);
        out.writeBytes(tag);
        out.writeByte(0);
    }

    /** ReadyForQuery ('Z') with status idle. */
    static void writeReadyForQuery(ByteBuf out) {
        out.writeByte('Z');
        out.writeInt(5);
        out.writeByte('I');
    }
}
