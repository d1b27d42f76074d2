package io.pgwarden.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Decoders of single messages. Each input sits at a non-zero readerIndex to catch absolute-index mistakes. */
class DecodersTest {

    @Test
    void decodesCleartextPassword() {
        assertThat(decode(Golden.bytes().tag('p').i32(11).cstr("secret"), PasswordMessages::password))
                .isEqualTo("secret");
    }

    @Test
    void decodesSaslInitialResponse() {
        PasswordMessages.SaslInitial initial = decode(
                Golden.bytes().tag('p').i32(34).cstr("SCRAM-SHA-256").i32(12).raw("n,,n=*,r=abc"),
                PasswordMessages::saslInitialResponse);
        assertThat(initial.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(initial.data()).isEqualTo("n,,n=*,r=abc".getBytes());
    }

    @Test
    void decodesSaslInitialResponseWithoutDataAsEmpty() {
        PasswordMessages.SaslInitial initial = decode(Golden.bytes().tag('p').i32(22).cstr("SCRAM-SHA-256").i32(-1),
                PasswordMessages::saslInitialResponse);
        assertThat(initial.data()).isEmpty();
    }

    @Test
    void decodesSaslResponse() {
        assertThat(decode(Golden.bytes().tag('p').i32(10).raw("c=biws"), PasswordMessages::saslResponse))
                .isEqualTo("c=biws".getBytes());
    }

    @Test
    void rejectsMalformedPasswordMessages() {
        assertMalformed(Golden.bytes().tag('p').i32(10).raw("secret"), PasswordMessages::password);
        assertMalformed(Golden.bytes().tag('p').i32(12).cstr("secret").i8('x'), PasswordMessages::password);
        assertMalformed(Golden.bytes().tag('Q').i32(11).cstr("secret"), PasswordMessages::password);
        // data length beyond the message
        assertMalformed(Golden.bytes().tag('p').i32(27).cstr("SCRAM-SHA-256").i32(12).raw("n,,n="),
                PasswordMessages::saslInitialResponse);
        assertMalformed(Golden.bytes().tag('p').i32(22).cstr("SCRAM-SHA-256").i32(-2),
                PasswordMessages::saslInitialResponse);
        // missing the data length
        assertMalformed(Golden.bytes().tag('p').i32(18).cstr("SCRAM-SHA-256"), PasswordMessages::saslInitialResponse);
        // declared longer than what arrived
        assertMalformed(Golden.bytes().tag('p').i32(99).raw("c=biws"), PasswordMessages::saslResponse);
        assertMalformed(Golden.bytes().tag('p').i32(3), PasswordMessages::saslResponse);
        assertMalformed(Golden.bytes().tag('p').i8(0), PasswordMessages::saslResponse);
    }

    @Test
    void decodesAuthenticationRequests() {
        AuthenticationRequest ok = decode(Golden.bytes().tag('R').i32(8).i32(0), AuthenticationRequest::decode);
        assertThat(ok.type()).isEqualTo(AuthenticationRequest.OK);
        assertThat(ok.data()).isEmpty();

        AuthenticationRequest md5 = decode(Golden.bytes().tag('R').i32(12).i32(5).i8(1).i8(2).i8(3).i8(0xff),
                AuthenticationRequest::decode);
        assertThat(md5.type()).isEqualTo(AuthenticationRequest.MD5_PASSWORD);
        assertThat(md5.md5Salt()).containsExactly(1, 2, 3, 0xff);

        AuthenticationRequest sasl = decode(
                Golden.bytes().tag('R').i32(42).i32(10).cstr("SCRAM-SHA-256-PLUS").cstr("SCRAM-SHA-256").i8(0),
                AuthenticationRequest::decode);
        assertThat(sasl.type()).isEqualTo(AuthenticationRequest.SASL);
        assertThat(sasl.saslMechanisms()).containsExactly("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");

        AuthenticationRequest saslContinue = decode(Golden.bytes().tag('R').i32(13).i32(11).raw("r=abc"),
                AuthenticationRequest::decode);
        assertThat(saslContinue.type()).isEqualTo(AuthenticationRequest.SASL_CONTINUE);
        assertThat(saslContinue.data()).isEqualTo("r=abc".getBytes());
    }

    @Test
    void rejectsMalformedAuthenticationRequests() {
        assertMalformed(Golden.bytes().tag('R').i32(6).i16(0), AuthenticationRequest::decode);
        assertMalformed(Golden.bytes().tag('R').i32(8), AuthenticationRequest::decode);
        AuthenticationRequest shortSalt = decode(Golden.bytes().tag('R').i32(10).i32(5).i16(1),
                AuthenticationRequest::decode);
        assertThatThrownBy(shortSalt::md5Salt).isInstanceOf(ProtocolException.class);
        AuthenticationRequest unterminated = decode(Golden.bytes().tag('R').i32(22).i32(10).cstr("SCRAM-SHA-256"),
                AuthenticationRequest::decode);
        assertThatThrownBy(unterminated::saslMechanisms).isInstanceOf(ProtocolException.class);
    }

    @Test
    void decodesBackendKeyDataCapturedFromPostgresql() {
        Golden captured = Golden.bytes().tag('K').i32(12).i8(0).i8(0).i8(0x0e).i8(0xf4).i8(0x93).i8(0x41).i8(0x8b)
                .i8(0x29);
        assertThat(decode(captured, BackendKeyData::processId)).isEqualTo(3828);
        assertThat(decode(captured, BackendKeyData::secretKey)).isEqualTo(0x93418b29);
        assertMalformed(Golden.bytes().tag('K').i32(8).i32(3828), BackendKeyData::secretKey);
        assertMalformed(Golden.bytes().tag('K').i32(12).i32(3828), BackendKeyData::processId);
    }

    @Test
    void decodesParameterStatus() {
        assertThat(decode(Golden.bytes().tag('S').i32(25).cstr("client_encoding").cstr("UTF8"), ParameterStatus::decode))
                .isEqualTo(new ParameterStatus.Entry("client_encoding", "UTF8"));
        assertThat(decode(Golden.bytes().tag('S').i32(22).cstr("application_name").cstr(""), ParameterStatus::decode))
                .isEqualTo(new ParameterStatus.Entry("application_name", ""));
        assertMalformed(Golden.bytes().tag('S').i32(20).cstr("client_encoding"), ParameterStatus::decode);
    }

    private static <T> T decode(Golden golden, Function<ByteBuf, T> decoder) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeBytes(new byte[] {'x', 'y', 'z'}).writeBytes(golden.build()).writeBytes(new byte[] {'Z', 0});
        buf.skipBytes(3);
        try {
            T result = decoder.apply(buf);
            assertThat(buf.readerIndex()).isEqualTo(3);
            return result;
        } finally {
            buf.release();
        }
    }

    private static void assertMalformed(Golden golden, Function<ByteBuf, ?> decoder) {
        ByteBuf buf = golden.buf();
        assertThatThrownBy(() -> decoder.apply(buf)).isInstanceOf(ProtocolException.class);
        buf.release();
    }
}
