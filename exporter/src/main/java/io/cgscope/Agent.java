package io.cgscope;

import io.cgscope.config.Config;
import io.cgscope.http.HttpComponent;
import io.cgscope.bpf.BpfHierarchy;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.metrics.BuildInfoCollector;
import io.cgscope.metrics.CgroupCollector;
import io.cgscope.metrics.CgroupFsCollector;
import io.cgscope.metrics.OomKillCollector;
import io.cgscope.bpf.OomKills;
import io.cgscope.metrics.IndexCollector;
import io.cgscope.metrics.WorkloadCollector;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.hotspot.DefaultExports;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;

/** The running cgscope: its components in start order, one registry, one stop. */
public final class Agent {
    private static final Logger LOG = Logger.getLogger(Agent.class.getName());

    private final CollectorRegistry registry = new CollectorRegistry(true);
    private final List<Component> components = new ArrayList<>();
    private final Deque<Component> started = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CgroupIndex index;
    private final HierarchyIndexes hierarchies;
    private final IndexComponent indexComponent;
    private final BpfComponent bpfComponent;
    private final HttpComponent httpComponent;
    private final ProgramsComponent programsComponent;
    private final Config config;

    /**
     * Wires the components; reads which cgroup hierarchies are mounted ({@link HierarchySetup}).
     *
     * @throws StartupException when {@code --cgroup.hierarchy} names no mounted hierarchy (status 2)
     */
    public Agent(Config config, BuildInfo build) throws StartupException {
        this.config = config;
        hierarchies = HierarchySetup.create(config, () -> new CgroupIndex(config.retention(), config.maxRetained(),
                com.github.benmanes.caffeine.cache.Ticker.systemTicker(), java.time.Clock.systemUTC()));
        index = hierarchies.inUse().index();
        DefaultExports.register(registry);
        new BuildInfoCollector(build).register(registry);
        new IndexCollector(index, hierarchies.inUse().name()).register(registry);
        components.add(new FdLimitComponent());
        indexComponent = new IndexComponent(config, hierarchies);
        components.add(indexComponent);
        if (indexComponent.crossCheck() != null) {
            new io.cgscope.metrics.CrossCheckCollector(indexComponent.crossCheck(), indexComponent::crossCheckLost)
                    .register(registry);
        }
        WorkloadResolver workloads = WorkloadResolver.of(config.runtimeDirs(), config.podLogsDir(), config.containerLogsDir());
        components.add(new WorkloadComponent(index, workloads));
        new WorkloadCollector(workloads).register(registry);
        CgroupFsCollector cgroupfs = new CgroupFsCollector(CgroupFsComponent.families(config), config, workloads);
        cgroupfs.register(registry);
        components.add(new CgroupFsComponent(config, hierarchies, cgroupfs));
        HierarchyIndexes.Indexed inUse = hierarchies.inUse();
        BpfHierarchy bpfHierarchy = inUse.id() == 0 ? BpfHierarchy.unified()
                : BpfHierarchy.v1(inUse.id(), inUse.name(), HierarchySetup.controllers(inUse));
        bpfComponent = new BpfComponent(config, bpfHierarchy);
        CgroupCollector bpfMetrics = new CgroupCollector(index, bpfComponent.counters(), config, workloads);
        bpfMetrics.register(registry);
        components.add(bpfComponent);
        HierarchyIndexes.Indexed decoded = ProgramsComponent.hierarchy(config, hierarchies);
        programsComponent = new ProgramsComponent(config, decoded, decoded == inUse, workloads, indexComponent,
                registry);
        components.add(programsComponent);
        OomComponent oom = new OomComponent(config.bpfPrograms().contains(OomKills.PROGRAM), config.maxCgroups(),
                hierarchies, bpfHierarchy);
        bpfMetrics.report(oom.kills());
        new OomKillCollector(index, oom.kills(), config, workloads).register(registry);
        components.add(oom);
        httpComponent = new HttpComponent(config, registry, build, index, workloads, bpfComponent.counters())
                .hierarchies(hierarchies);
        components.add(httpComponent);
    }

    /** The index of the hierarchy in use (--cgroup.hierarchy): it names the metrics and answers the API by default. */
    public CgroupIndex index() {
        return index;
    }

    public HierarchyIndexes hierarchies() {
        return hierarchies;
    }

    public IndexComponent indexComponent() {
        return indexComponent;
    }

    public BpfComponent bpfComponent() {
        return bpfComponent;
    }

    public HttpComponent httpComponent() {
        return httpComponent;
    }

    public ProgramsComponent programsComponent() {
        return programsComponent;
    }

    public CollectorRegistry registry() {
        return registry;
    }

    /**
     * Starts every component in order, then drops privileges when {@code --run-as} asks for it;
     * on a failure the caller stops what was started.
     */
    public synchronized void start() throws StartupException {
        io.cgscope.linux.Credentials.User runAs = config.runAs().isEmpty() ? null : PrivilegeDrop.resolve(config.runAs());
        for (Component c : components) {
            c.start();
            started.push(c);
        }
        if (runAs != null) {
            PrivilegeDrop.to(runAs);
        }
    }

    /** Stops the started components in reverse order; idempotent. */
    public synchronized void stop() {
        while (!started.isEmpty()) {
            Component c = started.pop();
            try {
                c.stop();
            } catch (RuntimeException e) {
                LOG.warning("stopping " + c.name() + " failed: " + e);
            }
        }
        stopped.countDown();
    }

    public void awaitStop() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
