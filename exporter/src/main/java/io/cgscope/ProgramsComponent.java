package io.cgscope;

import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.programs.UserPrograms;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.CollectorRegistry;

import java.util.logging.Logger;

/**
 * Loads and attaches the users' own programs ({@code --config.dir}, {@code --config.names}),
 * after cgscope's own ({@link BpfComponent}) and while still privileged, and registers their
 * metrics. A config or program that fails is logged and exported as down, and the agent runs on;
 * only a metric name that collides with another collector's fails the start (exit status 2).
 * The {@code cgroup} decoder names ids by the index of the hierarchy {@code --cgroup.hierarchy}
 * chose, as the built-in metrics do, or by the one {@code --config.cgroup-hierarchy} names.
 */
public final class ProgramsComponent implements Component {
    private static final Logger LOG = Logger.getLogger(ProgramsComponent.class.getName());

    private final Config config;
    private final HierarchyIndexes.Indexed hierarchy;
    private final boolean inUse;
    private final IndexComponent index;
    private final CollectorRegistry registry;
    private final UserPrograms programs;

    /** With the unified hierarchy's index only, workloads from paths alone (tests). */
    public ProgramsComponent(Config config, CgroupIndex cgroups, IndexComponent index, CollectorRegistry registry) {
        this(config, HierarchyIndexes.unified(cgroups, "").inUse(), false, WorkloadResolver.pathsOnly(), index,
                registry);
    }

    /**
     * @param hierarchy the hierarchy whose ids the {@code cgroup} decoder names ({@link #hierarchy})
     * @param inUse     whether it is the one in use, whose cgroups keep their bundles in {@code workloads}
     * @param workloads the built-in families' (their workload labels go on user metrics too)
     */
    public ProgramsComponent(Config config, HierarchyIndexes.Indexed hierarchy, boolean inUse,
                             WorkloadResolver workloads, IndexComponent index, CollectorRegistry registry) {
        this.config = config;
        this.hierarchy = hierarchy;
        this.inUse = inUse;
        this.index = index;
        this.registry = registry;
        this.programs = new UserPrograms(config, hierarchy.index(), workloads, inUse);
    }

    /**
     * The hierarchy the {@code cgroup} decoder names ids by: {@code --config.cgroup-hierarchy}, else
     * the unified one where it is mounted (the ids of {@code bpf_get_current_cgroup_id()}), else the one
     * in use.
     *
     * @throws StartupException (status 2) when {@code --config.cgroup-hierarchy} names no indexed hierarchy
     */
    public static HierarchyIndexes.Indexed hierarchy(Config config, HierarchyIndexes hierarchies)
            throws StartupException {
        if (config.programsHierarchy().isEmpty()) {
            // ebpf_exporter's programs record bpf_get_current_cgroup_id(): an id of the unified
            // hierarchy, whichever hierarchy names the built-in metrics.
            return hierarchies.byName("unified").orElse(hierarchies.inUse());
        }
        return hierarchies.byName(config.programsHierarchy()).orElseThrow(() -> new StartupException(
                "--config.cgroup-hierarchy=" + config.programsHierarchy() + ": no such hierarchy is mounted (indexed: "
                        + String.join(", ", hierarchies.all().stream().map(HierarchyIndexes.Indexed::name).toList())
                        + ")", 2, null));
    }

    @Override
    public String name() {
        return "programs";
    }

    public UserPrograms programs() {
        return programs;
    }

    @Override
    public void start() throws StartupException {
        if (!programs.any()) {
            return;
        }
        try {
            registry.register(programs);
        } catch (IllegalArgumentException e) {
            throw new StartupException("--config.names: " + e.getMessage() + " (change --config.metric-prefix="
                    + config.metricPrefix() + " or the metric's name)", 2, e);
        }
        long t0 = System.nanoTime();
        String summary = programs.start(index.mountPoint(hierarchy));
        LOG.info(summary + ", in " + (System.nanoTime() - t0) / 1_000_000 + " ms; cgroup labels name ids of the"
                + " hierarchy " + hierarchy.name() + (inUse ? ""
                : " (not the hierarchy that names the built-in metrics: --config.cgroup-hierarchy for programs"
                        + " that record the ids of another)"));
    }

    @Override
    public void stop() {
        programs.close();
    }
}
