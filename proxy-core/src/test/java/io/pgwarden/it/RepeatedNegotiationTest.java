package io.pgwarden.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.protocol.StartupRequest;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SSLRequest and GSSENCRequest before the StartupMessage, answered as PostgreSQL answers them. */
class RepeatedNegotiationTest {

    private static final int SSL = StartupRequest.SSL_REQUEST_CODE;
    private static final int GSS = StartupRequest.GSSENC_REQUEST_CODE;

    @Test
    void aRequestRepeatedRightAfterItselfIsRefusedAsPostgreSqlRefusesIt() throws Exception {
        int direct = TestPostgres.shared().port();
        try (TestProxy proxy = TestProxy.start("pool_mode: transaction")) {
            List<int[]> sequences = List.of(new int[] {SSL, SSL}, new int[] {GSS, GSS}, new int[] {SSL, GSS, SSL},
                    new int[] {GSS, SSL, GSS, SSL}, new int[] {GSS, SSL, SSL});
            for (int[] sequence : sequences) {
                assertThat(answers(proxy.port(), sequence)).as(describe(sequence))
                        .isEqualTo(answers(direct, sequence));
            }
            assertThat(answers(proxy.port(), new int[] {SSL, SSL})).containsExactly("N",
                    "E FATAL 0A000 unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0", "EOF");
            assertThat(answers(proxy.port(), new int[] {GSS, SSL, GSS, GSS})).containsExactly("N", "N", "N",
                    "E FATAL 0A000 unsupported frontend protocol 1234.5680: server supports 3.0 to 3.0", "EOF");
        }
    }

    /** What the server answers to each request, sent one at a time: N, or an ErrorResponse and the end. */
    private static List<String> answers(int port, int[] sequence) throws IOException {
        List<String> answers = new ArrayList<>();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (int code : sequence) {
                out.writeInt(8);
                out.writeInt(code);
                out.flush();
                int answer = in.read();
                if (answer != 'E') {
                    answers.add(String.valueOf((char) answer));
                    continue;
                }
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                answers.add("E " + fields(body));
                answers.add(in.read() == -1 ? "EOF" : "more bytes");
                break;
            }
        }
        return answers;
    }

    /** Severity, SQLSTATE and message: PostgreSQL adds file and line, which pgwarden has no use for. */
    private static String fields(byte[] body) {
        StringBuilder kept = new StringBuilder();
        int start = 0;
        while (start < body.length && body[start] != 0) {
            int end = start;
            while (body[end] != 0) {
                end++;
            }
            char type = (char) body[start];
            if (type == 'V' || type == 'C' || type == 'M') {
                kept.append(kept.length() > 0 ? " " : "")
                        .append(new String(body, start + 1, end - start - 1, StandardCharsets.UTF_8));
            }
            start = end + 1;
        }
        return kept.toString();
    }

    private static String describe(int[] sequence) {
        StringBuilder s = new StringBuilder();
        for (int code : sequence) {
            s.append(code == SSL ? "SSL " : "GSS ");
        }
        return s.toString().trim();
    }
}
