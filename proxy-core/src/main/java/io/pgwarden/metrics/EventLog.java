package io.pgwarden.metrics;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The most recent events operators ask about (backend losses, pool exhaustion, killed clients): SHOW EVENTS. */
public final class EventLog {

    /** One event; {@code pool} is "database/user" or "-". */
    public record Event(Instant time, String pool, String kind, String detail) {
    }

    private final int capacity;
    private final ArrayDeque<Event> events = new ArrayDeque<>();

    public EventLog(int capacity) {
        this.capacity = capacity;
    }

    public synchronized void add(String pool, String kind, String detail) {
        if (events.size() == capacity) {
            events.pollFirst();
        }
        events.addLast(new Event(Instant.now(), pool, kind, detail));
    }

    /** Newest first. */
    public synchronized List<Event> recent() {
        List<Event> list = new ArrayList<>(events);
        java.util.Collections.reverse(list);
        return list;
    }
}
