package io.cgscope.accounting;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cgroup v1 hierarchies mounted here, by controller, from {@code /proc/self/mountinfo}: on a
 * hybrid host they hold the controllers cgroup2 lacks. Used to say which v1 hierarchy a family
 * would be read from; the index follows only the cgroup2 hierarchy so far. Pure: tests feed it text.
 *
 * <p>A v1 line: {@code 32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu}: fs
 * type {@code cgroup}, the controllers among the super options ({@code rw} and the options
 * {@link #NOT_CONTROLLERS} are not controllers; {@code name=systemd} names a hierarchy without one).
 */
public final class V1Mounts {
    private static final Set<String> NOT_CONTROLLERS = Set.of("rw", "ro", "noprefix", "clone_children",
            "xattr", "cpuset_v2_mode", "favordynmods");

    private V1Mounts() {
    }

    /** Controller -> mount point of its hierarchy, for every v1 mount of a hierarchy root (the first mount wins). */
    public static Map<String, String> controllers(List<String> mountinfo) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : mountinfo) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (dash < 0 || dash + 3 >= f.length || !f[dash + 1].equals("cgroup") || !f[3].equals("/")) {
                continue;
            }
            for (String option : f[dash + 3].split(",")) {
                if (!option.isEmpty() && !option.contains("=") && !NOT_CONTROLLERS.contains(option)) {
                    out.putIfAbsent(option, f[4]);
                }
            }
        }
        return out;
    }
}
