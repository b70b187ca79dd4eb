package io.cgscope.fanotify;

import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.linux.Errno;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Libc;
import io.cgscope.linux.SyscallException;

import java.util.logging.Logger;

/**
 * A fanotify group with the mark on the whole cgroup2 file system: {@code fanotify_init} with
 * {@code FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME_TARGET} (and {@code FAN_UNLIMITED_QUEUE} when asked
 * and permitted), then {@code fanotify_mark} with {@code FAN_MARK_FILESYSTEM | FAN_MARK_ONLYDIR}
 * for {@code FAN_CREATE | FAN_DELETE | FAN_ONDIR}. Needs CAP_SYS_ADMIN.
 *
 * @param fd             the group, marked
 * @param unlimitedQueue whether the kernel granted {@code FAN_UNLIMITED_QUEUE}
 */
record FanotifyGroup(Fd fd, boolean unlimitedQueue) {
    private static final Logger LOG = Logger.getLogger(CgroupWatcher.class.getName());

    static FanotifyGroup open(CgroupFs fs, boolean unlimitedQueue) throws SyscallException {
        int flags = Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_REPORT_DFID_NAME_TARGET | Fanotify.FAN_CLOEXEC
                | Fanotify.FAN_NONBLOCK;
        String describe = "FAN_CLASS_NOTIF|FAN_REPORT_DFID_NAME_TARGET|FAN_NONBLOCK";
        Fd fd = null;
        boolean unlimited = false;
        if (unlimitedQueue) {
            try {
                fd = Libc.fanotifyInit(flags | Fanotify.FAN_UNLIMITED_QUEUE, Libc.O_RDONLY | Libc.O_CLOEXEC,
                        describe + "|FAN_UNLIMITED_QUEUE");
                unlimited = true;
            } catch (SyscallException e) {
                if (e.errno() != Errno.EPERM) {
                    throw e;
                }
                LOG.warning(e.getMessage() + ": using the kernel's bounded queue"
                        + " (/proc/sys/fs/fanotify/max_queued_events); an overflow costs a re-sync");
            }
        }
        if (fd == null) {
            fd = Libc.fanotifyInit(flags, Libc.O_RDONLY | Libc.O_CLOEXEC, describe);
        }
        try {
            Libc.fanotifyMark(fd, Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM | Fanotify.FAN_MARK_ONLYDIR,
                    Fanotify.FAN_CREATE | Fanotify.FAN_DELETE | Fanotify.FAN_ONDIR, fs.mountPoint().toString(),
                    "FAN_MARK_ADD|FAN_MARK_FILESYSTEM|FAN_MARK_ONLYDIR, FAN_CREATE|FAN_DELETE|FAN_ONDIR");
        } catch (SyscallException e) {
            fd.closeQuietly();
            throw e;
        }
        return new FanotifyGroup(fd, unlimited);
    }
}
