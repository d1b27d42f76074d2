package io.pgwarden.backend;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** How many backends were lost, per reason, since start: what the metrics endpoint will export. */
public final class LossCounters {

    private final Map<LossReason, LongAdder> counts = new EnumMap<>(LossReason.class);

    public LossCounters() {
        for (LossReason reason : LossReason.values()) {
            counts.put(reason, new LongAdder());
        }
    }

    void record(LossReason reason) {
        counts.get(reason).increment();
    }

    public long count(LossReason reason) {
        return counts.get(reason).sum();
    }

    /** reason_class -> count, for the metrics endpoint. */
    public Map<String, Long> snapshot() {
        Map<String, Long> snapshot = new java.util.LinkedHashMap<>();
        counts.forEach((reason, count) -> snapshot.put(reason.name().toLowerCase(), count.sum()));
        return snapshot;
    }
}
