package io.pgwarden.config;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * A CIDR block of client addresses ({@code 10.0.0.0/8}, {@code fd00::/8}); a bare address is a block of one.
 * As in pg_hba.conf, host bits set below the prefix are ignored: {@code 10.1.2.3/8} is {@code 10.0.0.0/8}.
 */
public record AddressRange(InetAddress network, int prefixLength) {

    public AddressRange {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is not between 0 and " + bits);
        }
    }

    /** False for an address of the other family: an IPv4 rule does not cover IPv6 clients, as in PostgreSQL. */
    public boolean contains(InetAddress address) {
        byte[] range = network.getAddress();
        byte[] candidate = address.getAddress();
        if (range.length != candidate.length) {
            return false;
        }
        int whole = prefixLength / 8;
        if (!Arrays.equals(range, 0, whole, candidate, 0, whole)) {
            return false;
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (range[whole] & mask) == (candidate[whole] & mask);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }
}
