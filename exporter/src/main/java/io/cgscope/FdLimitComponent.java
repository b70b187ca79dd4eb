package io.cgscope;

import io.cgscope.linux.Rlimits;
import io.cgscope.linux.SyscallException;

import java.util.logging.Logger;

/**
 * Raises the soft limit on open files to the hard limit, first thing at start, so that the HTTP
 * server's connections and the index's directories draw from the largest pool the host allows
 * (HTTP keeps a reserve of it free for the rest: README, "Security model"). HotSpot does the same
 * at JVM start unless {@code -XX:-MaxFDLimit} is given; this makes it so whatever the launcher.
 * A refusal is a warning, not a failure: cgscope runs on with the soft limit it has.
 */
final class FdLimitComponent implements Component {
    private static final Logger LOG = Logger.getLogger(FdLimitComponent.class.getName());

    @Override
    public String name() {
        return "fds";
    }

    @Override
    public void start() {
        Rlimits.Limit before;
        try {
            before = Rlimits.openFiles();
        } catch (SyscallException e) {
            LOG.warning("fds: " + e.getMessage() + "; running with the soft limit as it is");
            return;
        }
        if (before.soft() == before.hard()) {
            LOG.fine("fds: RLIMIT_NOFILE " + before + ", the soft limit is at the hard limit already");
            return;
        }
        Rlimits.Limit raised = new Rlimits.Limit(before.hard(), before.hard());
        try {
            Rlimits.setOpenFiles(raised);
            LOG.info("fds: RLIMIT_NOFILE soft limit raised to the hard limit: " + before + " -> " + raised);
        } catch (SyscallException e) {
            LOG.warning("fds: " + e.getMessage() + "; running with RLIMIT_NOFILE " + before);
        }
    }

    @Override
    public void stop() {
        // nothing to release: a raised limit is harmless to the process that exits
    }
}
