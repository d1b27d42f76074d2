package io.pgwarden.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.pgwarden.net.Transport;

/** For tests run on each listen.transport: skips one that cannot load on this machine, saying why. */
final class Transports {

    private Transports() {
    }

    static void assumeLoads(String transport) {
        // Through Transport, which sets Netty's io_uring poll mode before Netty's IoUring class initialises.
        assumeTrue(!transport.equals("io_uring") || Transport.ioUringAvailable(),
                () -> "io_uring is refused on this machine: " + IoUring.unavailabilityCause());
        assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(),
                () -> "epoll cannot load here: " + Epoll.unavailabilityCause());
    }
}
