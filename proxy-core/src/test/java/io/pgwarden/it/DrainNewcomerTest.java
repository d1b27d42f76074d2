package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A client still logging in when a graceful stop begins (it connected just before the listening socket closed,
 * as under a rolling restart's connection storm) runs its first transaction before it is closed with 57P01: one
 * that connects for a single transaction, like pgbench -C, must not see a failed connection.
 */
class DrainNewcomerTest {

    @Test
    void aClientLoggingInWhenTheDrainBeginsRunsItsFirstTransaction() throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction");
             Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            StartupPacket.send(out, 3 << 16, "user", "trustuser", "database", "appdb");
            assertThat(next(in).type()).as("asked for its password").isEqualTo('R');

            proxy.application().shutdown();
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> proxy.application().context().sessions().drain().isDraining());

            send(out, 'p', "trust-secret");
            Message m;
            while ((m = next(in)).type() != 'Z') {
                assertThat(m.type()).as("login answer: %s", m.text()).isNotEqualTo('E');
            }
            send(out, 'Q', "SELECT 'first transaction'");
            StringBuilder answer = new StringBuilder();
            while ((m = next(in)).type() != 'Z') {
                answer.append(m.type()).append(':').append(m.text()).append(' ');
            }
            assertThat(answer.toString()).as("its first query's answer").contains("first transaction")
                    .doesNotContain("57P01");
            Message goodbye = next(in);
            assertThat(goodbye.type()).isEqualTo('E');
            assertThat(goodbye.text()).contains("57P01").contains("pgwarden is shutting down");
        }
    }

    @Test
    void aClientThatLoggedInButHasNotAskedAnythingYetRunsItsFirstTransactionAndAnUnusedOneLeavesAfterTheGrace()
            throws Exception {
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction");
             Socket socket = new Socket("127.0.0.1", proxy.port()); RawClient unused = new RawClient(proxy.port())) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            StartupPacket.send(out, 3 << 16, "user", "trustuser", "database", "appdb");
            next(in);
            send(out, 'p', "trust-secret");
            Message m;
            while ((m = next(in)).type() != 'Z') {
                assertThat(m.type()).isNotEqualTo('E');
            }
            // Logged in, its first query not sent yet (pgbench -C between ReadyForQuery and its query).
            proxy.application().shutdown();
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> proxy.application().context().sessions().drain().isDraining());
            send(out, 'Q', "SELECT 'first transaction'");
            StringBuilder answer = new StringBuilder();
            while ((m = next(in)).type() != 'Z') {
                answer.append(m.type()).append(':').append(m.text()).append(' ');
            }
            assertThat(answer.toString()).contains("first transaction").doesNotContain("57P01");
            assertThat(next(in).text()).contains("57P01");
            assertThat(new String(unused.expectAny('E'), StandardCharsets.UTF_8)).as("the connection that asked"
                    + " nothing, once the grace has passed").contains("57P01").contains("pgwarden is shutting down");
        }
    }

    private record Message(char type, String text) {
    }

    private static Message next(DataInputStream in) throws IOException {
        char type = (char) in.readByte();
        byte[] body = new byte[in.readInt() - 4];
        in.readFully(body);
        return new Message(type, new String(body, StandardCharsets.UTF_8));
    }

    private static void send(DataOutputStream out, char type, String text) throws IOException {
        byte[] body = (text + "\0").getBytes(StandardCharsets.UTF_8);
        out.writeByte(type);
        out.writeInt(body.length + 4);
        out.write(body);
        out.flush();
    }
}
