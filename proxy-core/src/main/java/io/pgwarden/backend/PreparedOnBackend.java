package io.pgwarden.backend;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pgwarden-named prepared statements that exist on one backend, least recently used first, each with what
 * is known of when it was prepared and what it looks like, so that a client is given a copy only when it
 * cannot tell it from its own.
 * Touched only by whoever holds the backend, one holder at a time.
 */
public final class PreparedOnBackend {

    /** One server-side statement on this backend. */
    public static final class Copy {
        private final long stamp;
        private long shape;

        /** {@code stamp}: taken when its Parse was sent; the server parsed it no earlier. */
        public Copy(long stamp) {
            this.stamp = stamp;
        }

        public long stamp() {
            return stamp;
        }

        /** Its parameter and result types as the server described them; 0 until that answer has arrived. */
        public long shape() {
            return shape;
        }

        public void shape(long shape) {
            this.shape = shape;
        }
    }

    /** In access order: a lookup marks a statement as just used without allocating (every Bind does one). */
    private final LinkedHashMap<String, Copy> names = new LinkedHashMap<>(16, 0.75f, true);

    /** The copy prepared here, or null; marks it as just used. */
    public Copy use(String name) {
        return names.get(name);
    }

    /**
     * Records a statement about to be prepared here (replacing any copy of that name, which the caller closes).
     * @return the least recently used statement to close first to stay within {@code capacity}, or null
     */
    public Map.Entry<String, Copy> add(String name, Copy copy, int capacity) {
        Map.Entry<String, Copy> evicted = null;
        if (!names.containsKey(name) && names.size() >= capacity) {
            Iterator<Map.Entry<String, Copy>> oldest = names.entrySet().iterator();
            Map.Entry<String, Copy> eldest = oldest.next();
            evicted = Map.entry(eldest.getKey(), eldest.getValue());
            oldest.remove();
        }
        names.put(name, copy);
        return evicted;
    }

    /** A Close the server skipped (an earlier error in its batch): the copy it was to close is still there. */
    public void restore(String name, Copy copy) {
        names.put(name, copy);
    }

    /** Forgets {@code copy}, if it is still what {@code name} holds here. */
    public void remove(String name, Copy copy) {
        names.remove(name, copy);
    }

    /** After DISCARD ALL or DEALLOCATE ALL on this backend. */
    public void clear() {
        names.clear();
    }

    public int size() {
        return names.size();
    }
}
