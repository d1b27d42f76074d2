package io.pgwarden.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads listen.peer_id and listen.peers into {@link Peers}, recording every problem in the {@link ConfigReader}. */
final class PeersBinder {
    static final String ID_KEY = "peer_id";
    static final String PEERS_KEY = "peers";
    /** host:port, or [v6]:port. */
    private static final Pattern ADDRESS = Pattern.compile("(?:\\[([^\\]]+)]|([^:\\[\\]]+)):(\\d{1,5})");

    private final ConfigReader reader;

    PeersBinder(ConfigReader reader) {
        this.reader = reader;
    }

    /** @param listenPort listen.port, which a peer's own cancel address must not be */
    Peers bind(Map<String, Object> listen, int listenPort) {
        String idPath = ConfigReader.child("listen", ID_KEY);
        String peersPath = ConfigReader.child("listen", PEERS_KEY);
        boolean hasId = listen.containsKey(ID_KEY);
        boolean hasPeers = listen.containsKey(PEERS_KEY);
        if (!hasId && !hasPeers) {
            return Peers.none();
        }
        int before = reader.problemCount();
        int id = reader.read("listen", listen, ID_KEY, 0, (p, v) -> reader.integer(p, v, 1, Peers.MAX_ID));
        Map<Integer, Peers.PeerAddress> addresses = new LinkedHashMap<>();
        reader.mapping(peersPath, listen.get(PEERS_KEY)).orElse(Map.of()).forEach((key, value) -> {
            String path = ConfigReader.child(peersPath, key);
            Optional<Integer> peer = reader.integer(path, key, 1, Peers.MAX_ID);
            Optional<Peers.PeerAddress> address = reader.nonEmptyString(path, value).flatMap(a -> address(path, a));
            if (peer.isPresent() && address.isPresent()) {
                addresses.put(peer.get(), address.get());
            }
        });
        if (reader.problemCount() > before) {
            return Peers.none();
        }
        if (!hasId) {
            reader.problem(idPath, "is required with " + peersPath + ": it says which of the peers this process is");
        } else if (!hasPeers || addresses.isEmpty()) {
            reader.problem(peersPath, "is required with " + idPath + ": every process needs the peers' addresses");
        } else if (!addresses.containsKey(id)) {
            reader.problem(peersPath, "has no entry for this process's " + idPath + " " + id
                    + "; list every peer, this one included, with the address it takes cancel requests on");
        } else if (addresses.get(id).port() == listenPort) {
            reader.problem(ConfigReader.child(peersPath, String.valueOf(id)), "'" + addresses.get(id)
                    + "' is listen.port; a peer's address must reach that process alone, so give it a port of"
                    + " its own");
        }
        return reader.problemCount() > before ? Peers.none() : new Peers(id, addresses);
    }

    private Optional<Peers.PeerAddress> address(String path, String text) {
        Matcher m = ADDRESS.matcher(text);
        int port = m.matches() ? Integer.parseInt(m.group(3)) : -1;
        if (port < 1 || port > 65535) {
            reader.problem(path, "'" + text + "' is not host:port with a port between 1 and 65535");
            return Optional.empty();
        }
        return Optional.of(new Peers.PeerAddress(m.group(1) != null ? m.group(1) : m.group(2), port));
    }
}
