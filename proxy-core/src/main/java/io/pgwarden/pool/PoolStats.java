package io.pgwarden.pool;

import java.util.concurrent.atomic.LongAdder;

/** Traffic of one pool since start (SHOW STATS, metrics). Sessions add their counts once per transaction. */
public final class PoolStats {

    private final LongAdder transactions = new LongAdder();
    private final LongAdder queries = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder waitMicros = new LongAdder();

    public void add(long transactionCount, long queryCount, long received, long sent) {
        transactions.add(transactionCount);
        queries.add(queryCount);
        bytesIn.add(received);
        bytesOut.add(sent);
    }

    public void addWait(long micros) {
        waitMicros.add(micros);
    }

    public long transactions() {
        return transactions.sum();
    }

    public long queries() {
        return queries.sum();
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    public long waitMicros() {
        return waitMicros.sum();
    }
}
