package io.pgwarden.it.fuzz;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Breaks valid frontend messages the ways a buggy or hostile client would: flipped bits, truncation, lengths
 * too small, too big or negative, wrong or invalid type bytes, messages inserted, duplicated, dropped or
 * reordered, garbage tails. Each change is named in {@code log} so a failing case can be read, not only replayed.
 */
final class Mutator {

    /** Frontend types PostgreSQL knows, and some it does not, for type swaps. */
    private static final byte[] TYPES =
            "QPBDESHCXFdcfpzZ\u0000\u00ff1KR".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    private static final int[] LENGTHS = {0, 1, 3, 4, 5, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x40000000,
        0x3fffffff, 10_000, 10_001, 65_536, 0x00ffffff};
    private static final byte[] INTERESTING = {0, -1, 0x7f, (byte) 0x80, 1, '\n', '\\', '$'};

    private final SplittableRandom r;
    private final List<String> log;

    Mutator(SplittableRandom r, List<String> log) {
        this.r = r;
        this.log = log;
    }

    /** One to four changes to a conversation of typed messages. */
    List<byte[]> mutateStream(List<byte[]> messages) {
        List<byte[]> out = new ArrayList<>(messages);
        int changes = 1 + r.nextInt(4);
        for (int i = 0; i < changes; i++) {
            if (out.isEmpty()) {
                out.add(StreamGenerator.anyMessage(r));
            }
            int at = r.nextInt(out.size());
            switch (r.nextInt(10)) {
                case 0 -> {
                    out.add(r.nextInt(out.size() + 1), StreamGenerator.anyMessage(r));
                    log.add("insert a valid message");
                }
                case 1 -> {
                    out.add(at, out.get(at).clone());
                    log.add("duplicate message " + at);
                }
                case 2 -> {
                    int other = r.nextInt(out.size());
                    byte[] moved = out.get(at);
                    out.set(at, out.get(other));
                    out.set(other, moved);
                    log.add("swap messages " + at + " and " + other);
                }
                case 3 -> {
                    out.remove(at);
                    log.add("drop message " + at);
                }
                case 4 -> {
                    out.add(r.nextInt(out.size() + 1), garbage(1 + r.nextInt(40)));
                    log.add("insert garbage bytes");
                }
                default -> out.set(at, mutateOne(out.get(at), "message " + at));
            }
        }
        return out;
    }

    /** One change inside one message (or packet, for the untyped startup ones). */
    byte[] mutateOne(byte[] message, String what) {
        byte[] m = message.clone();
        int kind = r.nextInt(8);
        if (m.length == 0) {
            kind = 7;
        }
        switch (kind) {
            case 0 -> {
                int bit = r.nextInt(m.length * 8);
                m[bit / 8] ^= (byte) (1 << (bit % 8));
                log.add(what + ": flip bit " + bit);
            }
            case 1 -> {
                int at = r.nextInt(m.length);
                m[at] = r.nextBoolean() ? INTERESTING[r.nextInt(INTERESTING.length)] : (byte) r.nextInt(256);
                log.add(what + ": set byte " + at + " to " + (m[at] & 0xff));
            }
            case 2 -> {
                int keep = r.nextInt(m.length);
                m = Arrays.copyOf(m, keep);
                log.add(what + ": truncate to " + keep + " bytes");
            }
            case 3, 4 -> {
                // Typed messages carry the length at 1, startup packets at 0; either may be the target.
                int offset = m.length >= 5 && r.nextBoolean() ? 1 : 0;
                if (m.length >= offset + 4) {
                    int length = ByteBuffer.wrap(m, offset, 4).getInt();
                    int corrupt = switch (r.nextInt(3)) {
                        case 0 -> LENGTHS[r.nextInt(LENGTHS.length)];
                        case 1 -> length + (r.nextInt(9) - 4);
                        default -> r.nextInt();
                    };
                    ByteBuffer.wrap(m, offset, 4).putInt(corrupt);
                    log.add(what + ": length at " + offset + " from " + length + " to " + corrupt);
                }
            }
            case 5 -> {
                byte type = TYPES[r.nextInt(TYPES.length)];
                log.add(what + ": type " + (m[0] & 0xff) + " to " + (type & 0xff));
                m[0] = r.nextInt(5) == 0 ? (byte) r.nextInt(256) : type;
            }
            case 6 -> {
                int at = r.nextInt(m.length + 1);
                byte[] extra = garbage(1 + r.nextInt(12));
                byte[] grown = new byte[m.length + extra.length];
                System.arraycopy(m, 0, grown, 0, at);
                System.arraycopy(extra, 0, grown, at, extra.length);
                System.arraycopy(m, at, grown, at + extra.length, m.length - at);
                m = grown;
                log.add(what + ": insert " + extra.length + " bytes at " + at);
            }
            default -> {
                m = Wire.concat(m, garbage(1 + r.nextInt(64)));
                log.add(what + ": garbage tail");
            }
        }
        return m;
    }

    /** Cut points for writing {@code total} bytes in several writes (sorted, each in 1..total-1). */
    int[] splits(int total) {
        if (total < 2 || r.nextInt(3) == 0) {
            return new int[0];
        }
        int[] points = r.ints(1 + r.nextInt(6), 1, total).sorted().distinct().toArray();
        log.add("split at " + Arrays.toString(points));
        return points;
    }

    private byte[] garbage(int n) {
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) r.nextInt(256);
        }
        return bytes;
    }
}
