package io.pgwarden.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports a test must name before anything listens on them (peers' addresses, a port two processes share): probed
 * free below 32768, the kernel's ephemeral range, so that an outgoing connection cannot take one meanwhile.
 */
final class FreePorts {

    private FreePorts() {
    }

    static int below32768() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 32_768);
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port found between 20000 and 32767");
    }
}
