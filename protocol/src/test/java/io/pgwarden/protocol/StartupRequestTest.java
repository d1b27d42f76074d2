package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupRequestTest {

    @Test
    void decodesSslRequest() {
        assertThat(decode(Golden.bytes().i32(8).i32(80877103))).isEqualTo(new SslRequest());
    }

    @Test
    void decodesGssEncRequest() {
        assertThat(decode(Golden.bytes().i32(8).i32(80877104))).isEqualTo(new GssEncRequest());
    }

    @Test
    void decodesCancelRequest() {
        assertThat(decode(Golden.bytes().i32(16).i32(80877102).i32(4242).i32(-559038737)))
                .isEqualTo(new CancelRequest(4242, -559038737));
    }

    @Test
    void encodesCancelRequest() {
        ByteBuf out = Unpooled.buffer();
        new CancelRequest(4242, 0x01020304).encode(out);
        assertThat(Golden.readable(out)).isEqualTo(Golden.bytes().i32(16).i32(80877102).i32(4242).i32(0x01020304).build());
        out.release();
    }

    @Test
    void decodesStartupMessageKeepingParameterOrder() {
        StartupRequest request = decode(Golden.bytes().i32(56).i32(196608)
                .cstr("user").cstr("alice")
                .cstr("database").cstr("shop")
                .cstr("application_name").cstr("psql")
                .i8(0));
        assertThat(request).isInstanceOf(StartupMessage.class);
        StartupMessage startup = (StartupMessage) request;
        assertThat(startup.protocolVersion()).isEqualTo(196608);
        assertThat(startup.majorVersion()).isEqualTo(3);
        assertThat(startup.minorVersion()).isZero();
        assertThat(startup.parameters().keySet()).containsExactly("user", "database", "application_name");
        assertThat(startup.user()).isEqualTo("alice");
        assertThat(startup.database()).isEqualTo("shop");
        assertThatThrownBy(() -> startup.parameters().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void databaseDefaultsToTheUserAsPostgresqlDoes() {
        StartupMessage absent = (StartupMessage) decode(Golden.bytes().i32(20).i32(196608)
                .cstr("user").cstr("alice").i8(0));
        assertThat(absent.database()).isEqualTo("alice");
        StartupMessage empty = new StartupMessage(196608, Map.of("user", "bob", "database", ""));
        assertThat(empty.database()).isEqualTo("bob");
        StartupMessage nobody = new StartupMessage(196608, Map.of());
        assertThat(nobody.user()).isNull();
        assertThat(nobody.database()).isNull();
    }

    @Test
    void decodesAnyProtocolVersionForTheCallerToJudge() {
        StartupMessage newer = (StartupMessage) decode(Golden.bytes().i32(20).i32(3 << 16 | 2)
                .cstr("user").cstr("alice").i8(0));
        assertThat(newer.minorVersion()).isEqualTo(2);
        assertThat(newer.user()).isEqualTo("alice");

        // Protocol 2 used fixed-size fields: not parseable as pairs, yet the version must still reach the caller.
        ByteBuf v2 = Unpooled.buffer();
        v2.writeInt(296).writeInt(2 << 16).writeBytes("postgres".getBytes()).writeZero(296 - 16);
        StartupMessage old = (StartupMessage) StartupRequest.decode(v2);
        assertThat(old.majorVersion()).isEqualTo(2);
        v2.release();
    }

    @Test
    void encodesStartupMessageWithParametersInOrder() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "alice");
        parameters.put("database", "shop");
        ByteBuf out = Unpooled.buffer();
        out.writeBytes(new byte[] {9, 9, 9}); // proves the length is patched relative to the packet start
        new StartupMessage(StartupMessage.PROTOCOL_VERSION_3_0, parameters).encode(out);
        out.skipBytes(3);
        assertThat(Golden.readable(out)).isEqualTo(Golden.bytes().i32(34).i32(196608)
                .cstr("user").cstr("alice").cstr("database").cstr("shop").i8(0).build());
        assertThat(((StartupMessage) StartupRequest.decode(out)).parameters()).containsExactlyEntriesOf(parameters);
        out.release();
    }

    @Test
    void rejectsUnknownRequestCodes() {
        assertThatThrownBy(() -> decode(Golden.bytes().i32(8).i32(1234 << 16 | 5999)))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void rejectsMalformedPackets() {
        List<Golden> malformed = List.of(
                // value without its terminator
                Golden.bytes().i32(18).i32(196608).cstr("user").raw("alice"),
                // pairs without the final terminator
                Golden.bytes().i32(19).i32(196608).cstr("user").cstr("alice"),
                // name without a value
                Golden.bytes().i32(14).i32(196608).cstr("user").i8(0),
                // bytes after the final terminator
                Golden.bytes().i32(21).i32(196608).cstr("user").cstr("alice").i8(0).i8('x'),
                // cancel request of the wrong size
                Golden.bytes().i32(12).i32(80877102).i32(1),
                // SSL request with a payload
                Golden.bytes().i32(12).i32(80877103).i32(0),
                // shorter than its length says
                Golden.bytes().i32(40).i32(196608).cstr("user"));
        for (Golden packet : malformed) {
            assertThatThrownBy(() -> decode(packet)).isInstanceOf(ProtocolException.class);
        }
    }

    @Test
    void doesNotMoveTheReaderIndex() {
        ByteBuf packet = Golden.bytes().i32(16).i32(80877102).i32(1).i32(2).buf();
        StartupRequest.decode(packet);
        assertThat(packet.readerIndex()).isZero();
        packet.release();
    }

    @Test
    void cancelRequestDoesNotPrintItsSecret() {
        assertThat(new CancelRequest(7, 123456789).toString()).doesNotContain("123456789");
    }

    private static StartupRequest decode(Golden golden) {
        ByteBuf packet = golden.buf();
        try {
            return StartupRequest.decode(packet);
        } finally {
            packet.release();
        }
    }
}
