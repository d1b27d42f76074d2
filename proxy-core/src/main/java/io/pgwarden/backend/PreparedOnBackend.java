package io.pgwarden.backend;

import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * The pgwarden-named prepared statements that exist on one backend, least recently used first.
 * Touched only by whoever holds the backend, one holder at a time.
 */
public final class PreparedOnBackend {

    /** In access order: a lookup marks a statement as just used without allocating (every Bind does one). */
    private final LinkedHashMap<String, Boolean> names = new LinkedHashMap<>(16, 0.75f, true);

    /** True if prepared here; marks it as just used. */
    public boolean use(String name) {
        return names.get(name) != null;
    }

    /**
     * Records a statement about to be prepared here.
     * @return the least recently used statement to close first to stay within {@code capacity}, or null
     */
    public String add(String name, int capacity) {
        String evicted = null;
        if (!names.containsKey(name) && names.size() >= capacity) {
            Iterator<String> oldest = names.keySet().iterator();
            evicted = oldest.next();
            oldest.remove();
        }
        names.put(name, Boolean.TRUE);
        return evicted;
    }

    public void remove(String name) {
        names.remove(name);
    }

    /** After DISCARD ALL or DEALLOCATE ALL on this backend. */
    public void clear() {
        names.clear();
    }

    public int size() {
        return names.size();
    }
}
