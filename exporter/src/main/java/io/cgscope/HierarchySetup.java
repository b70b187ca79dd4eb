package io.cgscope;

import io.cgscope.cgroupfs.Hierarchies;
import io.cgscope.cgroupfs.Mountinfo;
import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Which cgroup hierarchies cgscope indexes (the unified one and every mounted v1 hierarchy) and
 * which one names the metrics ({@code --cgroup.hierarchy}), read from {@code /proc} before
 * anything starts: the metrics and the API are wired to that hierarchy's index.
 */
final class HierarchySetup {
    private HierarchySetup() {
    }

    /**
     * One index per hierarchy, made by {@code newIndex}.
     *
     * @throws StartupException (status 2) when {@code --cgroup.hierarchy} names nothing mounted
     */
    static HierarchyIndexes create(Config config, Supplier<CgroupIndex> newIndex) throws StartupException {
        List<String> mountinfo = Hierarchies.read("/proc/self/mountinfo");
        List<Hierarchies.Hierarchy> v1 = Hierarchies.v1(mountinfo, Hierarchies.read("/proc/self/cgroup"));
        String unifiedMount = config.cgroupRoot() != null ? config.cgroupRoot().toString()
                : Mountinfo.hierarchyRoot(mountinfo).map(Mountinfo.Mount::mountPoint).orElse(null);
        Hierarchies.Hierarchy unified = unifiedMount == null ? null
                : new Hierarchies.Hierarchy(Hierarchies.UNIFIED_ID, Hierarchies.UNIFIED, unifiedMount, List.of());
        if (unified == null && v1.isEmpty()) {
            // Nothing mounted: the unified index is still made, and its start says what is missing.
            unified = new Hierarchies.Hierarchy(Hierarchies.UNIFIED_ID, Hierarchies.UNIFIED, "", List.of());
        }
        Hierarchies.Choice choice;
        try {
            boolean auto = config.hierarchy().equals("auto");
            if (auto && config.cgroupRoot() != null) {
                // --cgroup.root names a cgroup2 hierarchy to follow (the DaemonSet's host mount):
                // that is the one meant, whatever v1 hierarchies this mount namespace also shows.
                choice = new Hierarchies.Choice(unified, "auto: --cgroup.root names the cgroup2 hierarchy");
            } else {
                choice = Hierarchies.choose(config.hierarchy(), unified, v1,
                        auto ? Hierarchies.holding(Hierarchies.readProcCgroups()) : java.util.Map.of());
            }
        } catch (IllegalArgumentException e) {
            throw new StartupException("--cgroup.hierarchy=" + config.hierarchy() + ": " + e.getMessage(), 2, e);
        }
        List<HierarchyIndexes.Indexed> all = new ArrayList<>();
        HierarchyIndexes.Indexed inUse = null;
        List<Hierarchies.Hierarchy> each = new ArrayList<>();
        if (unified != null) {
            each.add(unified);
        }
        each.addAll(v1);
        for (Hierarchies.Hierarchy h : each) {
            HierarchyIndexes.Indexed indexed = new HierarchyIndexes.Indexed(h.id(), h.name(), h.mountPoint(),
                    newIndex.get());
            all.add(indexed);
            if (h.id() == choice.hierarchy().id()) {
                inUse = indexed;
            }
        }
        return new HierarchyIndexes(all, inUse, choice.why());
    }

    /** The controllers of an indexed v1 hierarchy (none for a named one), from its name. */
    static List<String> controllers(HierarchyIndexes.Indexed h) {
        return h.name().startsWith("name=") ? List.of()
                : java.util.Arrays.stream(h.name().split(",")).filter(t -> !t.startsWith("name=")).toList();
    }

    static Path mount(HierarchyIndexes.Indexed h) {
        return Path.of(h.mountPoint());
    }
}
