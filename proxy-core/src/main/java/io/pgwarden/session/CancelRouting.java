package io.pgwarden.session;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgwarden.config.Peers;
import io.pgwarden.protocol.CancelRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a CancelRequest goes: to the session of this process that holds the key, or, when the key names another of
 * listen.peers, on to that process, marked as forwarded so that it goes no further (no loop, whatever the addresses).
 * An unknown key is dropped silently, as PostgreSQL does.
 */
public final class CancelRouting {

    private static final Logger log = LoggerFactory.getLogger(CancelRouting.class);

    private CancelRouting() {
    }

    /** Completes once the cancel has been acted on, or dropped; null when there is nothing to wait for. */
    public static Future<Void> route(ProxyContext proxy, CancelRequest cancel, EventLoop loop) {
        CancelRegistry registry = proxy.cancelRegistry();
        int owner = registry.ownerOf(cancel.secretKey());
        if (owner != 0 && owner != registry.peerId() && !registry.forwarded(cancel.secretKey())) {
            Peers.PeerAddress peer = registry.peerAddress(owner);
            if (peer == null) {
                log.debug("event=cancel_dropped pid={} reason=\"key of peer {}, which listen.peers does not list\"",
                        cancel.processId(), owner);
                return null;
            }
            log.info("event=cancel_forward pid={} peer={}", cancel.processId(), owner);
            return proxy.cancelForwarder().forwardToPeer(loop, peer.host(), peer.port(), cancel.processId(),
                    cancel.secretKey() | CancelRegistry.FORWARDED);
        }
        ClientSession target = registry.find(cancel.processId(), cancel.secretKey());
        return target == null ? null : target.cancelCurrentRequest();
    }
}
