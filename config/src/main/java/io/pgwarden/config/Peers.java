package io.pgwarden.config;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * listen.peer_id and listen.peers: the pgwarden processes that share a port (listen.reuse_port) and forward each
 * other the cancel requests that reached the wrong one. Every process is given the same map; its own entry is the
 * address it listens on for cancel requests alone, which must be its own (not the shared port).
 *
 * @param selfId this process's id, 0 when peering is off
 * @param addresses every peer's cancel address by id, this process's own included
 */
public record Peers(int selfId, Map<Integer, PeerAddress> addresses) {

    /** The highest peer id: it is carried in the top bits of the cancel key pgwarden hands out. */
    public static final int MAX_ID = 127;

    /** One peer's cancel address. */
    public record PeerAddress(String host, int port) {
        public PeerAddress {
            Objects.requireNonNull(host, "host");
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public Peers {
        addresses = Map.copyOf(addresses);
    }

    public static Peers none() {
        return new Peers(0, Map.of());
    }

    public boolean enabled() {
        return selfId > 0;
    }

    /** This process's own cancel address, or null when peering is off. */
    public PeerAddress self() {
        return addresses.get(selfId);
    }

    /** For SHOW CONFIG: the ids and addresses in id order. */
    @Override
    public String toString() {
        return enabled() ? new TreeMap<>(addresses).toString() : "";
    }
}
