package io.pgwarden.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds expected wire bytes by hand, so tests never derive expectations from the code under test. */
final class Golden {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    static Golden bytes() {
        return new Golden();
    }

    Golden tag(char tag) {
        bytes.write(tag);
        return this;
    }

    Golden i8(int value) {
        bytes.write(value);
        return this;
    }

    Golden i16(int value) {
        bytes.write(value >>> 8);
        bytes.write(value);
        return this;
    }

    Golden i32(int value) {
        bytes.write(value >>> 24);
        bytes.write(value >>> 16);
        bytes.write(value >>> 8);
        bytes.write(value);
        return this;
    }

    /** The string's UTF-8 bytes followed by NUL. */
    Golden cstr(String value) {
        raw(value);
        bytes.write(0);
        return this;
    }

    /** The string's UTF-8 bytes, no terminator. */
    Golden raw(String value) {
        bytes.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    Golden raw(byte[] value) {
        bytes.writeBytes(value);
        return this;
    }

    byte[] build() {
        return bytes.toByteArray();
    }

    /** An unpooled heap buffer holding the bytes (refCnt 1: release it). */
    ByteBuf buf() {
        return Unpooled.wrappedBuffer(build());
    }

    static byte[] readable(ByteBuf buf) {
        return ByteBufUtil.getBytes(buf);
    }
}
