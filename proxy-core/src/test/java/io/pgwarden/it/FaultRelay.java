package io.pgwarden.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on loopback that sits between pgwarden and PostgreSQL so integration tests can inject
 * network faults (server crash, connection reset, blackhole, refused connections) that a real
 * PostgreSQL cannot be made to produce on demand. Point the proxy at {@link #port()} instead of
 * PostgreSQL's port. Plain blocking sockets, two daemon threads per relayed connection.
 */
final class FaultRelay implements AutoCloseable {

    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    private static final long JOIN_MILLIS = 5_000;

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Thread acceptThread;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Set<Thread> pumpThreads = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionIds = new AtomicInteger();
    /** Bytes read and dropped while blackholed: a test waits on it to know a request reached "the server". */
    private final java.util.concurrent.atomic.AtomicLong discarded = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean refusing;
    private volatile long connectDelayMillis;
    private boolean holding;                          // guarded by this
    private final List<Socket> held = new java.util.ArrayList<>(); // guarded by this
    private boolean forwarding = true; // guarded by this
    private boolean closed;            // guarded by this

    private FaultRelay(InetSocketAddress target, ServerSocket server) {
        this.target = target;
        this.server = server;
        this.acceptThread = daemon("fault-relay-" + server.getLocalPort() + "-accept", this::acceptLoop);
    }

    /** Listens on 127.0.0.1 on a free port and forwards every accepted connection to targetHost:targetPort. */
    static FaultRelay start(String targetHost, int targetPort) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        FaultRelay relay = new FaultRelay(new InetSocketAddress(targetHost, targetPort), server);
        relay.acceptThread.start();
        return relay;
    }

    int port() {
        return server.getLocalPort();
    }

    /** Number of currently open relayed connections (a half-closed connection still counts). */
    int openConnections() {
        return links.size();
    }

    /** How many connections have been relayed so far, closed ones included. */
    int relayedConnections() {
        return connectionIds.get();
    }

    /** Closes both sides of every current connection (FIN), as a server crash seen from the client would. */
    void closeAll() {
        links.forEach(link -> link.close(false));
    }

    /** Resets (RST: SO_LINGER 0 then close) both sides of every current connection. */
    void resetAll() {
        links.forEach(link -> link.close(true));
    }

    /**
     * Blackhole: bytes are still read from both sides but discarded, on current and future connections;
     * nothing is closed, and end-of-stream or errors are not passed on either.
     */
    synchronized void stopForwarding() {
        forwarding = false;
        links.forEach(link -> link.blackholed = true);
    }

    /** Bytes read from either side and dropped since the first {@link #stopForwarding()}. */
    long discardedBytes() {
        return discarded.get();
    }

    /** Forwards again on future connections; connections blackholed so far are closed (their streams are corrupt). */
    synchronized void resumeForwarding() {
        forwarding = true;
        links.stream().filter(link -> link.blackholed).forEach(link -> link.close(false));
    }

    /** Refuses new connections (closes them right after accept, the client reads EOF) until {@link #acceptConnections()}. */
    void refuseConnections() {
        refusing = true;
    }

    void acceptConnections() {
        refusing = false;
    }

    /**
     * Accepts new connections but relays nothing of them (their bytes wait unread) until
     * {@link #releaseHeldConnections()}: a server that is slow to get to a request, or never does.
     */
    synchronized void holdNewConnections() {
        holding = true;
    }

    synchronized int heldConnections() {
        return held.size();
    }

    /** Relays the held connections now, and new ones at once again. */
    synchronized void releaseHeldConnections() {
        holding = false;
        held.forEach(this::connect);
        held.clear();
    }

    /** Relays each new connection only after {@code delay} (on its own thread: others are not held up by it). */
    void delayNewConnections(java.time.Duration delay) {
        connectDelayMillis = delay.toMillis();
    }

    /** Stops listening, closes every connection and waits (bounded) for all relay threads to end. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closeQuietly(server);
        join(acceptThread);
        synchronized (this) {
            held.forEach(FaultRelay::closeQuietly);
            held.clear();
        }
        closeAll();
        pumpThreads.forEach(FaultRelay::join);
    }

    private void acceptLoop() {
        while (true) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed, or the listening socket is broken: either way we are done
            }
            if (refusing) {
                closeQuietly(client);
                continue;
            }
            synchronized (this) {
                if (holding) {
                    held.add(client);
                    continue;
                }
            }
            long delay = connectDelayMillis;
            if (delay > 0) {
                startTracked("fault-relay-" + port() + "-delayed", () -> {
                    try {
                        Thread.sleep(delay);
                    } catch (InterruptedException e) {
                        closeQuietly(client);
                        return;
                    }
                    connect(client);
                });
            } else {
                connect(client);
            }
        }
    }

    /** A daemon thread that {@link #close()} waits for. */
    private void startTracked(String name, Runnable body) {
        Thread[] self = new Thread[1];
        self[0] = daemon(name, () -> {
            try {
                body.run();
            } finally {
                pumpThreads.remove(self[0]);
            }
        });
        pumpThreads.add(self[0]);
        self[0].start();
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            upstream.connect(target, CONNECT_TIMEOUT_MILLIS);
        } catch (IOException e) {
            closeQuietly(client); // the target is down: the client sees its connection closed
            closeQuietly(upstream);
            return;
        }
        register(new Link(client, upstream));
    }

    private void register(Link link) {
        synchronized (this) {
            if (closed) {
                link.close(false);
                return;
            }
            link.blackholed = !forwarding;
            links.add(link);
        }
        String prefix = "fault-relay-" + port() + "-" + connectionIds.incrementAndGet();
        startPump(prefix + "-c2s", link, link.client, link.upstream);
        startPump(prefix + "-s2c", link, link.upstream, link.client);
    }

    private void startPump(String name, Link link, Socket from, Socket to) {
        startTracked(name, () -> pump(link, from, to));
    }

    /** Copies from → to until end of stream, passing a half-close on; any error closes the whole link. */
    private void pump(Link link, Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) != -1) {
                if (!link.blackholed) {
                    out.write(buffer, 0, n);
                } else {
                    discarded.addAndGet(n);
                }
            }
            if (!link.blackholed) {
                to.shutdownOutput();
            }
        } catch (IOException e) {
            if (!link.blackholed) {
                link.close(false);
            }
        } finally {
            link.directionDone();
        }
    }

    /** One relayed connection: the accepted client socket and our socket to the target. */
    private final class Link {
        final Socket client;
        final Socket upstream;
        volatile boolean blackholed;
        private final AtomicInteger openDirections = new AtomicInteger(2);
        private final AtomicBoolean closed = new AtomicBoolean();

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void directionDone() {
            if (openDirections.decrementAndGet() == 0) {
                close(false);
            }
        }

        void close(boolean reset) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            links.remove(this);
            for (Socket socket : List.of(client, upstream)) {
                if (reset) {
                    try {
                        socket.setSoLinger(true, 0);
                    } catch (IOException ignored) {
                        // already closed: nothing to reset
                    }
                }
                closeQuietly(socket);
            }
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void join(Thread thread) {
        try {
            thread.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // best effort
        }
    }
}
