package io.pgwarden.protocol;

import static io.pgwarden.protocol.BackendMessagesTest.assertEncodes;

import org.junit.jupiter.api.Test;

class FrontendMessagesTest {

    @Test
    void password() {
        assertEncodes(out -> FrontendMessages.password(out, "secret"), Golden.bytes().tag('p').i32(11).cstr("secret"));
    }

    @Test
    void saslInitialResponse() {
        assertEncodes(out -> FrontendMessages.saslInitialResponse(out, "SCRAM-SHA-256", "n,,n=*,r=abc".getBytes()),
                Golden.bytes().tag('p').i32(34).cstr("SCRAM-SHA-256").i32(12).raw("n,,n=*,r=abc"));
    }

    @Test
    void saslInitialResponseWithoutData() {
        assertEncodes(out -> FrontendMessages.saslInitialResponse(out, "SCRAM-SHA-256", null),
                Golden.bytes().tag('p').i32(22).cstr("SCRAM-SHA-256").i32(-1));
    }

    @Test
    void saslResponse() {
        assertEncodes(out -> FrontendMessages.saslResponse(out, "c=biws".getBytes()),
                Golden.bytes().tag('p').i32(10).raw("c=biws"));
    }

    @Test
    void query() {
        assertEncodes(out -> FrontendMessages.query(out, "select 1"), Golden.bytes().tag('Q').i32(13).cstr("select 1"));
    }

    @Test
    void sync() {
        assertEncodes(FrontendMessages::sync, Golden.bytes().tag('S').i32(4));
    }

    @Test
    void terminate() {
        assertEncodes(FrontendMessages::terminate, Golden.bytes().tag('X').i32(4));
    }
}
