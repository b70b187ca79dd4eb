package io.cgscope.accounting;

import io.cgscope.index.CgroupIndex;
import io.cgscope.linux.Fd;

import java.util.Set;

/**
 * One mounted cgroup hierarchy the collectors read: its root directory, open, and the index that
 * names its cgroup ids. Today the agent has one, the cgroup2 hierarchy; a hierarchy-aware index
 * (one index per v1 hierarchy) feeds the v1 ones the same way.
 *
 * @param name        for logs and the README: {@code unified}, or a v1 hierarchy's controllers ({@code memory})
 * @param version     cgroup2 or v1: which files a family reads ({@link CgroupFiles})
 * @param root        the hierarchy's root directory; every cgroup is opened relative to it
 * @param index       names the ids of this hierarchy (and tells when one's retention ends)
 * @param controllers the controllers whose files its cgroups have (v1: those mounted there; cgroup2:
 *                    the root's {@code cgroup.controllers})
 */
public record Hierarchy(String name, CgroupFiles.Version version, Fd root, CgroupIndex index, Set<String> controllers) {
    /** Whether this hierarchy has the files of {@code family}. */
    public boolean serves(Family family) {
        if (family == Family.PRESSURE) {
            return version == CgroupFiles.Version.V2;
        }
        return controllers.contains(version == CgroupFiles.Version.V2 ? family.controller() : family.v1Controller());
    }
}
