package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** listen.transport, listen.reuse_port, listen.handover_socket, listen.peer_id and listen.peers. */
class ListenSocketConfigTest {

    private final ConfigLoader loader = new ConfigLoader(Map.of("APP_PASSWORD", "s3cret"));

    private ListenConfig listen(String listenYaml) throws ConfigException {
        return loader.parse("listen:\n" + listenYaml.indent(2) + ConfigLoaderTest.MINIMAL, "t").listen();
    }

    private List<String> problems(String listenYaml) {
        return catchThrowableOfType(ConfigException.class, () -> listen(listenYaml)).problems();
    }

    @Test
    void defaultsToAutoWithoutReusePortOrPeers() throws ConfigException {
        ListenConfig listen = listen("port: 6432");
        assertThat(listen.transport()).isEqualTo(ListenTransport.AUTO);
        assertThat(listen.reusePort()).isFalse();
        assertThat(listen.peers().enabled()).isFalse();
    }

    @Test
    void readsEachTransportAndRefusesOthers() throws ConfigException {
        assertThat(listen("transport: io_uring").transport()).isEqualTo(ListenTransport.IO_URING);
        assertThat(listen("transport: epoll").transport()).isEqualTo(ListenTransport.EPOLL);
        assertThat(listen("transport: nio").transport()).isEqualTo(ListenTransport.NIO);
        assertThat(problems("transport: kqueue")).containsExactly(
                "listen.transport: 'kqueue' is not one of auto, io_uring, epoll, nio");
    }

    @Test
    void reusePortNeedsANativeTransport() throws ConfigException {
        assertThat(listen("reuse_port: true").reusePort()).isTrue();
        assertThat(listen("reuse_port: true\ntransport: epoll").reusePort()).isTrue();
        assertThat(problems("reuse_port: true\ntransport: nio")).singleElement().asString()
                .startsWith("listen.reuse_port: needs a native transport (io_uring or epoll)");
    }

    @Test
    void handoverSocketIsAnAbsolutePathOnEpoll() throws ConfigException {
        assertThat(listen("port: 6432").handoverSocket()).isNull();
        assertThat(listen("handover_socket: /run/pgwarden/handover.sock").handoverSocket())
                .isEqualTo("/run/pgwarden/handover.sock");
        assertThat(listen("handover_socket: /run/h.sock\ntransport: epoll").handoverSocket()).isEqualTo("/run/h.sock");
        assertThat(problems("handover_socket: run/h.sock")).containsExactly(
                "listen.handover_socket: must be an absolute path, not 'run/h.sock'");
        assertThat(problems("handover_socket: /" + "x".repeat(107))).singleElement().asString()
                .isEqualTo("listen.handover_socket: is longer than the 107 bytes a Unix socket path may have");
        assertThat(problems("handover_socket: /run/h.sock\ntransport: nio")).singleElement().asString()
                .startsWith("listen.handover_socket: needs the epoll transport");
        assertThat(problems("handover_socket: /run/h.sock\ntransport: io_uring")).singleElement().asString()
                .startsWith("listen.handover_socket: needs the epoll transport");
        assertThat(problems("handover_socket: 5")).singleElement().asString().startsWith("listen.handover_socket:");
    }

    @Test
    void readsPeers() throws ConfigException {
        Peers peers = listen("""
                peer_id: 2
                peers:
                  1: 127.0.0.1:7001
                  2: "[::1]:7002"
                """).peers();
        assertThat(peers.selfId()).isEqualTo(2);
        assertThat(peers.self()).isEqualTo(new Peers.PeerAddress("::1", 7002));
        assertThat(peers.addresses()).containsEntry(1, new Peers.PeerAddress("127.0.0.1", 7001));
        assertThat(peers).hasToString("{1=127.0.0.1:7001, 2=[::1]:7002}");
    }

    @Test
    void refusesPeersThatCannotWork() {
        assertThat(problems("peer_id: 1")).containsExactly("listen.peers: is required with listen.peer_id: every"
                + " process needs the peers' addresses");
        assertThat(problems("peers: {1: 'h:1'}")).containsExactly("listen.peer_id: is required with listen.peers:"
                + " it says which of the peers this process is");
        assertThat(problems("peer_id: 3\npeers: {1: 'h:1', 2: 'h:2'}")).containsExactly("listen.peers: has no entry"
                + " for this process's listen.peer_id 3; list every peer, this one included, with the address it"
                + " takes cancel requests on");
        assertThat(problems("port: 6432\npeer_id: 1\npeers: {1: '127.0.0.1:6432'}")).containsExactly(
                "listen.peers.1: '127.0.0.1:6432' is listen.port; a peer's address must reach that process alone,"
                        + " so give it a port of its own");
        assertThat(problems("peer_id: 128\npeers: {1: 'h:1', 0: 'h:2', 2: 'h', 3: 'h:0'}")).containsExactly(
                "listen.peer_id: 128 is out of range; must be between 1 and 127",
                "listen.peers.0: 0 is out of range; must be between 1 and 127",
                "listen.peers.2: 'h' is not host:port with a port between 1 and 65535",
                "listen.peers.3: 'h:0' is not host:port with a port between 1 and 65535");
    }
}
