package io.cgscope.index;

import java.util.Arrays;

/**
 * A cgroup's names from itself up to (not including) the root, walked through the parent links:
 * paths are derived from the graph, never stored. Depth is small (systemd trees are 3-6 deep);
 * a chain longer than {@link #MAX_DEPTH} (a cycle, which ids rule out) counts as unknown.
 */
final class Ancestry {
    static final int MAX_DEPTH = 4096;

    /** names[0] is the cgroup's own name, names[depth - 1] the top-level ancestor's. */
    private byte[][] names = new byte[8][];
    private int depth;
    private int bytes;

    /**
     * Walks up from {@code e} (null: unknown id).
     *
     * @return null when the entry or an ancestor is unknown
     */
    static Ancestry of(Entry e, CgroupStore store) {
        long rootId = store.rootId();
        Ancestry a = new Ancestry();
        Entry cur = e;
        while (cur != null && cur.id() != rootId) {
            if (a.depth == MAX_DEPTH) {
                return null;
            }
            if (a.depth == a.names.length) {
                a.names = Arrays.copyOf(a.names, a.depth * 2);
            }
            a.names[a.depth++] = cur.name();
            a.bytes += cur.name().length;
            cur = store.get(cur.parentId());
        }
        return cur == null ? null : a;
    }

    /** As shown: names decoded ({@link CgroupNames}), joined by '/'; "/" for the root itself. */
    String path() {
        if (depth == 0) {
            return "/";
        }
        StringBuilder sb = new StringBuilder(bytes + depth);
        for (int i = depth - 1; i >= 0; i--) {
            sb.append(CgroupNames.decode(names[i]));
            if (i > 0) {
                sb.append('/');
            }
        }
        return sb.toString();
    }

    /** As the file system spells it, relative to the root ({@code a/b}; empty for the root). */
    byte[] bytes() {
        byte[] out = new byte[Math.max(0, bytes + depth - 1)];
        int at = 0;
        for (int i = depth - 1; i >= 0; i--) {
            System.arraycopy(names[i], 0, out, at, names[i].length);
            at += names[i].length;
            if (i > 0) {
                out[at++] = '/';
            }
        }
        return out;
    }
}
