package io.cgscope;

import io.cgscope.accounting.CgroupFiles;
import io.cgscope.accounting.Family;
import io.cgscope.accounting.Hierarchy;
import io.cgscope.accounting.HierarchyReader;
import io.cgscope.accounting.V1Mounts;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.CgroupFsException;
import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
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
 * Sets up the cgroupfs accounting collectors of {@code --collector.cgroupfs}: which hierarchy each
 * family is read from. The index follows the cgroup2 hierarchy, so that is the one read here: a
 * family whose controller is not enabled there (on a hybrid host its controller sits in a v1
 * hierarchy) is down, with the reason in the log and {@code cgscope_cgroupfs_collector_up 0}.
 * A hierarchy-aware index (one per v1 hierarchy) is the missing piece for those:
 * {@link CgroupFsCollector#add} takes a reader of any hierarchy. Never fails the start.
 */
public final class CgroupFsComponent implements Component {
    private static final Logger LOG = Logger.getLogger(CgroupFsComponent.class.getName());

    private final Config config;
    private final CgroupIndex index;
    private final CgroupFsCollector collector;
    private final Set<Family> wanted = EnumSet.noneOf(Family.class);
    private CgroupFs fs;

    public CgroupFsComponent(Config config, CgroupIndex index, CgroupFsCollector collector) {
        this.config = config;
        this.index = index;
        this.collector = collector;
        this.wanted.addAll(families(config));
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
        try {
            fs = CgroupFs.open(config.cgroupRoot());
        } catch (CgroupFsException e) {
            for (Family f : wanted) {
                collector.unavailable(f, e.getMessage());
            }
            LOG.warning("cgroupfs: no family is read: " + e.getMessage());
            return;
        }
        Set<String> controllers = Set.of(readControllers(fs.mountPoint()).split(" "));
        Hierarchy unified = new Hierarchy("cgroup2", CgroupFiles.Version.V2, fs.rootFd(), index, controllers);
        Set<Family> here = EnumSet.noneOf(Family.class);
        List<String> notHere = new ArrayList<>();
        Map<String, String> v1 = v1Controllers();
        for (Family f : wanted) {
            if (unified.serves(f)) {
                here.add(f);
                continue;
            }
            String v1Mount = v1.get(f.v1Controller());
            String reason = v1Mount != null
                    ? "its controller is in the v1 hierarchy " + v1Mount + ", which the index does not follow"
                    : "no hierarchy has the " + f.controller() + " controller";
            collector.unavailable(f, reason);
            notHere.add(f.label() + " (" + reason + ")");
        }
        if (!here.isEmpty()) {
            HierarchyReader reader = new HierarchyReader(unified, here, collector::label);
            collector.add(reader, here);
        }
        LOG.info("cgroupfs: reading " + (here.isEmpty() ? "nothing" : String.join(",", here.stream().map(Family::label)
                .toList()) + " from " + fs.mountPoint()) + (notHere.isEmpty() ? "" : "; not read: "
                + String.join("; ", notHere)));
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
