package io.cgscope.index;

import java.util.ArrayList;
import java.util.List;

/**
 * Paths: what a path a user gives means ({@link #canonical}, the one place that says it), and an
 * entry's path, derived from the parent links ({@link Ancestry}) rather than stored. A path is
 * relative to the hierarchy root without a leading slash ({@code system.slice/nginx.service}); the
 * root is {@code /}; a name that is not UTF-8 shows each bad byte as {@code \xNN}
 * ({@link CgroupNames}).
 */
public final class CgroupPaths {
    private final CgroupStore store;

    CgroupPaths(CgroupStore store) {
        this.store = store;
    }

    /**
     * A path as the index spells it: leading and trailing slashes dropped ({@code /system.slice/}
     * and {@code system.slice} name the same cgroup), {@code /} (or only slashes) for the root.
     */
    public static String canonical(String path) {
        int start = 0;
        int end = path.length();
        while (end > 1 && path.charAt(end - 1) == '/') {
            end--;
        }
        while (end - start > 1 && path.charAt(start) == '/') {
            start++;
        }
        return path.substring(start, end);
    }

    /** Whether a canonical path names the root ({@code /}, or empty). */
    static boolean isRoot(String canonical) {
        return canonical.isEmpty() || canonical.equals("/");
    }

    /** Whether {@code path} is {@code prefix} or below it, by whole segments (every path is below the root). */
    static boolean within(String path, String prefix) {
        return isRoot(prefix) || path.equals(prefix) || path.startsWith(prefix) && path.charAt(prefix.length()) == '/';
    }

    /** The path of an entry, or null when an ancestor is unknown. */
    String of(Entry e) {
        Ancestry a = Ancestry.of(e, store);
        return a == null ? null : a.path();
    }

    /** The path of a known id, or null when the id or an ancestor is unknown. */
    String of(long id) {
        Entry e = store.get(id);
        return e == null ? null : of(e);
    }

    /** The raw path bytes of a known id ({@code a/b}; empty for the root), or null. */
    byte[] bytes(long id) {
        Ancestry a = Ancestry.of(store.get(id), store);
        return a == null ? null : a.bytes();
    }

    /**
     * The ids of every cgroup with this path, live and retained, in no order. Each segment may
     * stand for two byte names ({@link CgroupNames#candidates}: its UTF-8, or {@code \xNN} read
     * back as bytes), so a level can hold several ids.
     */
    List<Long> ids(String path) {
        if (path == null) {
            return List.of();
        }
        String p = canonical(path);
        List<Long> level = new ArrayList<>();
        level.add(store.rootId());
        if (isRoot(p)) {
            return store.get(store.rootId()) == null ? List.of() : level;
        }
        for (String segment : p.split("/", -1)) {
            if (segment.isEmpty()) {
                return List.of();
            }
            List<Long> next = new ArrayList<>();
            for (byte[] name : CgroupNames.candidates(segment)) {
                for (long parent : level) {
                    store.idsNamed(parent, name, next);
                }
            }
            if (next.isEmpty()) {
                return List.of();
            }
            level = next;
        }
        return level;
    }
}
