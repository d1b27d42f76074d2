package io.pgwarden.it;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writes a raw StartupMessage, for tests that speak the protocol without a driver. */
final class StartupPacket {

    private StartupPacket() {
    }

    /** {@code keyValues}: name, value, name, value, ... */
    static void send(OutputStream raw, int version, String... keyValues) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String s : keyValues) {
            body.write(s.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        }
        body.write(0);
        DataOutputStream out = new DataOutputStream(raw);
        out.writeInt(8 + body.size());
        out.writeInt(version);
        out.write(body.toByteArray());
        out.flush();
    }
}
