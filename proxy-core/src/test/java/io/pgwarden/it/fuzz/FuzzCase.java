package io.pgwarden.it.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One fuzz case, a pure function of (seed, index) so that any case can be replayed alone. The login steps that
 * depend on what the proxy answers (SCRAM's nonces, md5's salt) are computed while the case runs; which of them
 * is broken, and how, is still drawn from here ({@link #startupSeed}).
 *
 * @param victimStep the login write to break (preamble packets, StartupMessage, then each password or SASL
 *     message in order), or -1 for none
 * @param closeInVictim after breaking it, write only part of it and close
 * @param stream what the client sends once logged in, mutated or not, as one byte string
 * @param splits where that string is cut into separate writes
 * @param closeAt close after this many bytes of it, or -1 to send it all
 */
record FuzzCase(long seed, long index, Kind kind, StreamGenerator.Login login, int victimStep, long startupSeed,
                boolean closeInVictim, byte[] stream, int[] splits, int closeAt, List<String> changes) {

    enum Kind {
        /** Logs in (maybe brokenly) and then talks. */
        SESSION,
        /** A CancelRequest with a key nobody has. */
        CANCEL,
        /** Random bytes where the first packet should be. */
        GARBAGE
    }

    static FuzzCase derive(long seed, long index) {
        SplittableRandom r = new SplittableRandom(seed ^ (index * 0x9E3779B97F4A7C15L));
        r = r.split();
        List<String> changes = new ArrayList<>();
        Mutator mutator = new Mutator(r, changes);
        int roll = r.nextInt(100);
        Kind kind = roll < 2 ? Kind.CANCEL : roll < 4 ? Kind.GARBAGE : Kind.SESSION;
        StreamGenerator.Login login = StreamGenerator.login(r);
        int victim = -1;
        if (r.nextInt(4) == 0) {
            victim = r.nextInt(login.preamble().size() + 3);
            changes.add("break login write " + victim);
        }
        boolean closeInVictim = victim >= 0 && r.nextInt(4) == 0;
        List<byte[]> messages = StreamGenerator.afterLogin(r);
        if (victim < 0 ? r.nextInt(10) != 0 : r.nextInt(3) == 0) {
            messages = mutator.mutateStream(messages);
        }
        byte[] stream = kind == Kind.GARBAGE ? garbage(r) : Wire.concat(messages.toArray(byte[][]::new));
        int[] splits = mutator.splits(stream.length);
        int closeAt = stream.length > 1 && r.nextInt(10) == 0 ? r.nextInt(stream.length) : -1;
        if (closeAt >= 0) {
            changes.add("close after " + closeAt + " of " + stream.length + " bytes");
        }
        return new FuzzCase(seed, index, kind, login, victim, r.nextLong(), closeInVictim, stream, splits, closeAt,
                changes);
    }

    private static byte[] garbage(SplittableRandom r) {
        byte[] bytes = new byte[1 + r.nextInt(64)];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) r.nextInt(256);
        }
        return bytes;
    }

    @Override
    public String toString() {
        return "case " + index + " (seed " + seed + ", replay with -Dpgwarden.fuzz.seed=" + seed
                + " -Dpgwarden.fuzz.case=" + index + "): " + kind + " as " + login.account().user() + " to "
                + login.database() + ", " + String.join("; ", changes);
    }
}
