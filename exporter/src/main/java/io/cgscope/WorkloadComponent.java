package io.cgscope;

import io.cgscope.index.CgroupIndex;
import io.cgscope.workload.BundleTracker;
import io.cgscope.workload.WorkloadResolver;

import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Names workloads from the container runtimes' bundles ({@code --workload.runtime-dirs}) and
 * kubelet's log files ({@code --workload.pod-logs-dir}, {@code --workload.container-logs-dir}):
 * starts the bundle tracker right after the index, so that the bundles of the containers already
 * running are read while cgscope may still read them (before {@code --run-as}).
 */
public final class WorkloadComponent implements Component {
    private static final Logger LOG = Logger.getLogger(WorkloadComponent.class.getName());
    /** How often bundles of cgroups gone from the index are forgotten. */
    static final long PRUNE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final CgroupIndex index;
    private final WorkloadResolver workloads;
    private BundleTracker tracker;

    public WorkloadComponent(CgroupIndex index, WorkloadResolver workloads) {
        this.index = index;
        this.workloads = workloads;
    }

    @Override
    public String name() {
        return "workload";
    }

    @Override
    public void start() {
        long t0 = System.nanoTime();
        tracker = new BundleTracker(index, workloads, PRUNE_INTERVAL_NANOS);
        tracker.start();
        if (workloads.bundles().enabled()) {
            LOG.info("workload: bundles from " + workloads.bundles().dirs() + ": " + workloads.bundles().size()
                    + " running containers' read in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } else {
            LOG.info("workload: no --workload.runtime-dirs: no bundles read");
        }
        if (workloads.logs().enabled()) {
            LOG.info("workload: names no bundle gives from kubelet's log files in " + workloads.logs().dirs() + " ("
                    + workloads.logs().size() + " running containers and pods looked up)");
        }
    }

    @Override
    public void stop() {
        if (tracker != null) {
            tracker.close();
            tracker = null;
        }
    }
}
