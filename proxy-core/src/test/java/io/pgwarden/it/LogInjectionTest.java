package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** What a client names before it has proved anything must not be able to write log lines of its own. */
class LogInjectionTest {

    @Test
    void aNewlineInTheUserNameAndSaslMechanismStaysInsideOneEscapedValue() throws Exception {
        String user = "mallory\n2026-12-01T00:00:00.000Z INFO  Login - event=client_login user=admin";
        String mechanism = "SCRAM-SHA-256\r\nevent=forged";
        try (LogCapture log = new LogCapture();
             TestProxy proxy = TestProxy.start("pool_mode: transaction");
             Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(5_000);
            StartupPacket.send(socket.getOutputStream(), 3 << 16, "user", user, "database", "app\"db",
                    "application_name", "x\u001b[2J");
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertThat((char) in.readByte()).as("authentication request").isEqualTo('R');
            in.readNBytes(in.readInt() - 4);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(mechanism.getBytes(StandardCharsets.UTF_8));
            body.write(0);
            new DataOutputStream(body).writeInt(0);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeByte('p');
            out.writeInt(4 + body.size());
            out.write(body.toByteArray());
            out.flush();
            assertThat((char) in.readByte()).as("refused").isEqualTo('E');

            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> !log.lines("event=client_close").isEmpty());
            assertThat(log.lines("event=auth_failed")).singleElement().satisfies(line -> assertThat(line)
                    .contains("user=\"mallory\\n2026-12-01T00:00:00.000Z INFO  Login - event=client_login "
                            + "user=admin\" reason=\"unsupported SASL mechanism SCRAM-SHA-256\\r\\nevent=forged\""));
            assertThat(log.lines("event=client_close")).singleElement().satisfies(line -> assertThat(line)
                    .contains("database=\"app\\\"db\"")
                    .contains("reason=\"28P01 password authentication failed for user \\\"mallory\\n2026"));
            assertThat(log.lines("")).as("no line holds a line break or an escape sequence")
                    .noneMatch(line -> line.contains("\n") || line.contains("\r") || line.contains("\u001b"));
            assertThat(log.lines("forged")).as("the mechanism is inside the auth_failed line only").hasSize(1);
        }
    }
}
