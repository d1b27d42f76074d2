package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** A connection refused before its authentication began leaves one log line, but a flood does not. */
class StartupRefusalLogTest {

    @Test
    void garbageBeforeTheStartupPacketIsLoggedOnceWithItsReasonAndRepeatsFromTheSameHostAreLeftOut()
            throws Exception {
        try (LogCapture log = new LogCapture(); TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            for (int i = 0; i < 3; i++) {
                try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
                    socket.setSoTimeout(5_000);
                    OutputStream out = socket.getOutputStream();
                    // An HTTP probe: "GET " read as a startup packet's length is 1.2 GB.
                    out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    DataInputStream in = new DataInputStream(socket.getInputStream());
                    assertThat((char) in.readByte()).as("a FATAL").isEqualTo('E');
                    in.readNBytes(in.readInt() - 4);
                    assertThat(in.read()).isEqualTo(-1);
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.application().context().sessions().all().isEmpty());
            assertThat(log.lines("event=startup_refused")).as("three connections within 10 s, one line")
                    .singleElement().satisfies(line -> assertThat(line)
                            .matches("event=startup_refused client=\\d+ addr=/127\\.0\\.0\\.1:\\d+ "
                                    + "reason=\"08P01 invalid frontend message: [^\"]+\" suppressed=0"));
        }
    }
}
