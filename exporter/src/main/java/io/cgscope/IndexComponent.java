package io.cgscope;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.CgroupFsException;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.cgroupfs.SweepLoop;
import io.cgscope.config.Config;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.linux.SyscallException;

import java.util.logging.Logger;

/**
 * Starts the cgroup index in the mode asked for: fanotify events ({@code fanotify}), periodic
 * sweeps ({@code sweep}), or fanotify with a fallback to sweeps when the kernel refuses the
 * FILESYSTEM mark ({@code auto}: kernels before 6.6 give kernfs no fsid; no CAP_SYS_ADMIN).
 */
public final class IndexComponent implements Component {
    private static final Logger LOG = Logger.getLogger(IndexComponent.class.getName());

    private final Config config;
    private final CgroupIndex index;
    private CgroupFs fs;
    private volatile CgroupWatcher watcher;
    private volatile SweepLoop sweeps;

    public IndexComponent(Config config, CgroupIndex index) {
        this.config = config;
        this.index = index;
    }

    @Override
    public String name() {
        return "index";
    }

    public CgroupIndex index() {
        return index;
    }

    /** The fanotify watcher, or null in sweep mode. */
    public CgroupWatcher watcher() {
        return watcher;
    }

    /** The sweep loop, or null in fanotify mode. */
    public SweepLoop sweeps() {
        return sweeps;
    }

    @Override
    public void start() throws StartupException {
        try {
            fs = CgroupFs.open(config.cgroupRoot());
        } catch (CgroupFsException e) {
            throw new StartupException(e.getMessage(), config.cgroupRoot() != null ? 2 : 1, e);
        }
        index.setResolver(new KernelLookup(fs));
        long t0 = System.nanoTime();
        try {
            if (config.indexMode() != Config.IndexMode.SWEEP) {
                try {
                    watcher = new CgroupWatcher(fs, index, config.unlimitedQueue());
                    watcher.onFdLost(this::fallBackToSweeps);
                    watcher.start();
                    LOG.info("index: cgroup root " + fs.mountPoint() + " (fsid " + fs.fsidText() + "), mode fanotify"
                            + (watcher.unlimitedQueue() ? " with FAN_UNLIMITED_QUEUE" : " with the bounded queue")
                            + ", " + index.liveCount() + " cgroups in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                    return;
                } catch (SyscallException e) {
                    closeWatcher();
                    if (config.indexMode() == Config.IndexMode.FANOTIFY) {
                        throw new StartupException("--cgroup.index-mode=fanotify: " + e.getMessage(), e);
                    }
                    LOG.warning("fanotify refused, falling back to sweeps every "
                            + config.sweepInterval().toMillis() + " ms: " + e.getMessage());
                    sweeps = new SweepLoop(fs, index, config.sweepInterval());
                    sweeps.start("fanotify refused: " + e.getMessage());
                }
            } else {
                sweeps = new SweepLoop(fs, index, config.sweepInterval());
                sweeps.start("--cgroup.index-mode=sweep");
            }
            LOG.info("index: cgroup root " + fs.mountPoint() + ", mode sweep, " + index.liveCount()
                    + " cgroups in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        } catch (SyscallException e) {
            throw new StartupException("cannot index " + fs.mountPoint() + ": " + e.getMessage(), e);
        }
    }

    /** Runs on the watcher's thread as it ends: the sweeps take over as the index's writer. */
    private void fallBackToSweeps(String reason) {
        index.stats().degraded.set(reason);
        SweepLoop loop = new SweepLoop(fs, index, config.sweepInterval());
        try {
            loop.start(reason);
            sweeps = loop;
        } catch (SyscallException e) {
            index.stats().notFollowing.set(reason + "; sweeping failed too: " + e.getMessage());
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private void closeWatcher() {
        if (watcher != null) {
            watcher.close();
            watcher = null;
        }
    }

    @Override
    public void stop() {
        closeWatcher();
        if (sweeps != null) {
            sweeps.close();
            sweeps = null;
        }
        if (fs != null) {
            fs.close();
            fs = null;
        }
        index.stats().notFollowing.set("stopped");
    }
}
