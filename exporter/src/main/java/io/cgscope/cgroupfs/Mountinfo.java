package io.cgscope.cgroupfs;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the cgroup2 hierarchy root in {@code /proc/self/mountinfo}. Pure: tests feed it text.
 *
 * <p>A line: {@code 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw}: mount id,
 * parent id, major:minor, root (the subtree of the file system mounted there), mount point,
 * options, optional fields, {@code -}, fs type, source, super options. Only a mount whose root is
 * {@code /} shows the whole hierarchy; inside a cgroup namespace or a bind mount of a subtree the
 * root field is something else and ids would not match the host's paths.
 */
public final class Mountinfo {
    /** One cgroup2 mount. */
    public record Mount(String mountPoint, String root) {
        /**
         * Whether the mount shows the whole hierarchy. Seen from inside a cgroup namespace, a bind
         * mount of the host's hierarchy root has a root field of {@code /..} segments (the root
         * lies above the namespace's own root): that is the whole hierarchy too.
         */
        public boolean isHierarchyRoot() {
            return root.equals("/") || root.matches("(/\\.\\.)+/?");
        }
    }

    private Mountinfo() {
    }

    /** Every cgroup2 mount, in file order. */
    public static List<Mount> cgroup2Mounts(List<String> lines) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (dash < 0 || dash + 1 >= f.length || f.length < 5) {
                continue;
            }
            if (f[dash + 1].equals("cgroup2")) {
                mounts.add(new Mount(unescape(f[4]), unescape(f[3])));
            }
        }
        return mounts;
    }

    /** The first cgroup2 mount that shows the whole hierarchy. */
    public static Optional<Mount> hierarchyRoot(List<String> lines) {
        return cgroup2Mounts(lines).stream().filter(Mount::isHierarchyRoot).findFirst();
    }

    /** mountinfo writes space, tab, newline and backslash as {@code \040}, {@code \011}, {@code \012}, {@code \134}. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\'
                    && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }
}
