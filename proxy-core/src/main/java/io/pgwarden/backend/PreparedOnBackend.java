package io.pgwarden.backend;

import java.util.Iterator;
import java.util.LinkedHashSet;

/**
 * The pgwarden-named prepared statements that exist on one backend, least recently used first.
 * Touched only by whoever holds the backend, one holder at a time.
 */
public final class PreparedOnBackend {

    private final LinkedHashSet<String> names = new LinkedHashSet<>();

    /** True if prepared here; marks it as just used. */
    public boolean use(String name) {
        if (!names.remove(name)) {
            return false;
        }
        names.add(name);
        return true;
    }

    /**
     * Records a statement about to be prepared here.
     * @return the least recently used statement to close first to stay within {@code capacity}, or null
     */
    public String add(String name, int capacity) {
        String evicted = null;
        if (!names.contains(name) && names.size() >= capacity) {
            Iterator<String> oldest = names.iterator();
            evicted = oldest.next();
            oldest.remove();
        }
        names.remove(name);
        names.add(name);
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
