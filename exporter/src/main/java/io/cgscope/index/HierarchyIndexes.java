package io.cgscope.index;

import java.util.List;
import java.util.Optional;

/**
 * The index of each cgroup hierarchy cgscope keeps: the unified one (cgroup2) and every mounted
 * v1 hierarchy, each with its own ids (kernfs numbers each hierarchy's nodes on its own, so an id
 * is unique only within its hierarchy), and the one {@code --cgroup.hierarchy} chose, which names
 * the BPF counters and answers {@code /cgroup/<id>} by default. Fixed at start; read by any thread.
 */
public final class HierarchyIndexes {
    /** One hierarchy and its index; {@code id} is the kernel's hierarchy id (0: unified). */
    public record Indexed(int id, String name, String mountPoint, CgroupIndex index) {
    }

    private final List<Indexed> all;
    private final Indexed inUse;
    private final String why;

    /**
     * @param all   every indexed hierarchy, the unified one first when mounted, then by id
     * @param inUse the chosen one (one of {@code all})
     * @param why   how it was chosen, for the log and {@code /hierarchies}
     */
    public HierarchyIndexes(List<Indexed> all, Indexed inUse, String why) {
        if (!all.contains(inUse)) {
            throw new IllegalArgumentException("the hierarchy in use is not among the indexed ones");
        }
        this.all = List.copyOf(all);
        this.inUse = inUse;
        this.why = why;
    }

    /** Only the unified hierarchy (tests, and a host with nothing else mounted). */
    public static HierarchyIndexes unified(CgroupIndex index, String mountPoint) {
        Indexed u = new Indexed(0, "unified", mountPoint, index);
        return new HierarchyIndexes(List.of(u), u, "the only hierarchy");
    }

    public Indexed inUse() {
        return inUse;
    }

    /** How the hierarchy in use was chosen. */
    public String why() {
        return why;
    }

    public List<Indexed> all() {
        return all;
    }

    /** By name as {@code /hierarchies} lists it ({@code unified}, {@code memory}, {@code cpu,cpuacct}, {@code name=systemd}), or by one of its controllers. */
    public Optional<Indexed> byName(String name) {
        for (Indexed h : all) {
            if (h.name().equals(name)) {
                return Optional.of(h);
            }
        }
        for (Indexed h : all) {
            if (!h.name().startsWith("name=") && List.of(h.name().split(",")).contains(name)) {
                return Optional.of(h);
            }
        }
        return Optional.empty();
    }

    /** The unified hierarchy's, if it is indexed. */
    public Optional<Indexed> unified() {
        return all.stream().filter(h -> h.id() == 0).findFirst();
    }
}
