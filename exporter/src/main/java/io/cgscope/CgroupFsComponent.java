package io.cgscope;

import io.cgscope.accounting.CgroupFiles;
import io.cgscope.accounting.Family;
import io.cgscope.accounting.Hierarchy;
import io.cgscope.accounting.HierarchyReader;
import io.cgscope.accounting.V1Mounts;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.CgroupFsException;
import io.cgscope.config.Config;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.metrics.CgroupFsCollector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Sets up the cgroupfs accounting collectors of {@code --collector.cgroupfs}: the families are read
 * from the hierarchy in use ({@code --cgroup.hierarchy}), whose index names the metrics' cgroups:
 * cgroup2's files there, a v1 hierarchy's equivalents ({@link CgroupFiles}) where it is v1. A family
 * the hierarchy in use has no files for (its controller is elsewhere, or pressure in v1, which has
 * none) is down, with the reason in the log and {@code cgscope_cgroupfs_collector_up 0}: reading it
 * from another hierarchy would label another tree's paths. Never fails the start.
 */
public final class CgroupFsComponent implements Component {
    private static final Logger LOG = Logger.getLogger(CgroupFsComponent.class.getName());

    private final HierarchyIndexes hierarchies;
    private final CgroupFsCollector collector;
    private final Set<Family> wanted = EnumSet.noneOf(Family.class);
    private CgroupFs fs;

    public CgroupFsComponent(Config config, HierarchyIndexes hierarchies, CgroupFsCollector collector) {
        this(families(config), hierarchies, collector);
    }

    /** @param wanted the families to read ({@link #families}) */
    public CgroupFsComponent(Set<Family> wanted, HierarchyIndexes hierarchies, CgroupFsCollector collector) {
        this.hierarchies = hierarchies;
        this.collector = collector;
        this.wanted.addAll(wanted);
    }

    /** The families {@code --collector.cgroupfs} selects. */
    public static Set<Family> families(Config config) {
        Set<Family> out = EnumSet.noneOf(Family.class);
        for (String c : config.cgroupfsCollectors()) {
            out.add(Family.of(c));
        }
        return out;
    }

    @Override
    public String name() {
        return "cgroupfs";
    }

    @Override
    public void start() {
        if (wanted.isEmpty()) {
            return;
        }
        HierarchyIndexes.Indexed inUse = hierarchies.inUse();
        boolean unified = inUse.id() == 0;
        try {
            fs = unified ? CgroupFs.open(inUse.mountPoint().isEmpty() ? null : Path.of(inUse.mountPoint())) : CgroupFs.openV1(Path.of(inUse.mountPoint()));
        } catch (CgroupFsException e) {
            for (Family f : wanted) {
                collector.unavailable(f, e.getMessage());
            }
            LOG.warning("cgroupfs: no family is read: " + e.getMessage());
            return;
        }
        Set<String> controllers = unified ? Set.of(readControllers(fs.mountPoint()).split(" "))
                : Set.copyOf(HierarchySetup.controllers(inUse));
        Hierarchy hierarchy = new Hierarchy(inUse.name(), unified ? CgroupFiles.Version.V2 : CgroupFiles.Version.V1,
                fs.rootFd(), inUse.index(), controllers);
        Set<Family> here = EnumSet.noneOf(Family.class);
        List<String> notHere = new ArrayList<>();
        Map<String, String> v1 = v1Controllers();
        for (Family f : wanted) {
            if (hierarchy.serves(f)) {
                here.add(f);
                continue;
            }
            String reason = whyNot(f, inUse, v1);
            collector.unavailable(f, reason);
            notHere.add(f.label() + " (" + reason + ")");
        }
        if (!here.isEmpty()) {
            HierarchyReader reader = new HierarchyReader(hierarchy, here, collector::label);
            collector.add(reader, here);
        }
        LOG.info("cgroupfs: reading " + (here.isEmpty() ? "nothing" : String.join(",", here.stream().map(Family::label)
                .toList()) + " from " + fs.mountPoint()) + (notHere.isEmpty() ? "" : "; not read: "
                + String.join("; ", notHere)));
    }

    /** Why the hierarchy in use has no files of {@code f}: one line, for the log and the collector's reason. */
    static String whyNot(Family f, HierarchyIndexes.Indexed inUse, Map<String, String> v1) {
        if (inUse.id() != 0 && f == Family.PRESSURE) {
            return "cgroup v1 has no pressure files (the hierarchy in use is " + inUse.name()
                    + "; --cgroup.hierarchy=unified reads them)";
        }
        String v1Mount = v1.get(f.v1Controller());
        String inUseName = (inUse.id() == 0 ? "the unified hierarchy" : "the v1 hierarchy " + inUse.name());
        return v1Mount != null
                ? "its controller is in the v1 hierarchy " + v1Mount + ", not in the hierarchy in use (" + inUseName
                        + "; --cgroup.hierarchy=" + f.v1Controller() + " reads it)"
                : "no hierarchy mounted here has the " + f.controller() + " controller";
    }

    private static String readControllers(Path mount) {
        try {
            return Files.readString(mount.resolve("cgroup.controllers")).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static Map<String, String> v1Controllers() {
        try {
            return V1Mounts.controllers(Files.readAllLines(Path.of("/proc/self/mountinfo")));
        } catch (IOException e) {
            return Map.of();
        }
    }

    @Override
    public void stop() {
        // Under the collector's lock: a scrape still running finishes first, later ones read nothing.
        collector.closeReaders();
        if (fs != null) {
            fs.close();
            fs = null;
        }
    }
}
