package io.cgscope.cgroupfs;

import io.cgscope.linux.Fd;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.Libc;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The cgroup2 hierarchy root: where it is mounted, its file system id, and an open fd of the root
 * directory that relative lookups ({@code name_to_handle_at}, {@code openat}) and
 * {@code open_by_handle_at} start from.
 */
public final class CgroupFs implements AutoCloseable {
    /** {@code CGROUP2_SUPER_MAGIC} from {@code <linux/magic.h>}. */
    public static final long CGROUP2_SUPER_MAGIC = 0x63677270L;
    /** {@code CGROUP_SUPER_MAGIC} from {@code <linux/magic.h>}: a cgroup v1 hierarchy. */
    public static final long CGROUP_SUPER_MAGIC = 0x27e0ebL;
    /** The root cgroup's kernfs id. */
    public static final long ROOT_ID = 1;

    private final Path mountPoint;
    private final Fd rootFd;
    private final int fsid0;
    private final int fsid1;
    private final long rootId;

    private CgroupFs(Path mountPoint, Fd rootFd, int fsid0, int fsid1, long rootId) {
        this.mountPoint = mountPoint;
        this.rootFd = rootFd;
        this.fsid0 = fsid0;
        this.fsid1 = fsid1;
        this.rootId = rootId;
    }

    /**
     * Opens the hierarchy root: {@code configured} when given (it must be a cgroup2 mount point
     * of the whole hierarchy, not a subtree), else the first such mount in {@code /proc/self/mountinfo}.
     */
    public static CgroupFs open(Path configured) throws CgroupFsException {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException e) {
            throw new CgroupFsException("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
        }
        Path mountPoint;
        if (configured == null) {
            Optional<Mountinfo.Mount> root = Mountinfo.hierarchyRoot(lines);
            if (root.isEmpty()) {
                throw new CgroupFsException(Mountinfo.cgroup2Mounts(lines).isEmpty()
                        ? "no cgroup2 file system is mounted (none in /proc/self/mountinfo)"
                        : "no cgroup2 mount shows the hierarchy root (only subtrees are mounted here,"
                                + " as in a cgroup namespace): mount it, or run in the host's cgroup namespace", null);
            }
            mountPoint = Path.of(root.get().mountPoint());
        } else {
            Path wanted = configured.toAbsolutePath().normalize();
            Optional<Mountinfo.Mount> match = Mountinfo.cgroup2Mounts(lines).stream()
                    .filter(m -> Path.of(m.mountPoint()).equals(wanted)).findFirst();
            if (match.isEmpty()) {
                throw new CgroupFsException("--cgroup.root=" + configured + " is not a cgroup2 mount point", null);
            }
            if (!match.get().isHierarchyRoot()) {
                throw new CgroupFsException("--cgroup.root=" + configured + " mounts the subtree "
                        + match.get().root() + ", not the hierarchy root", null);
            }
            mountPoint = wanted;
        }
        return mount(mountPoint, CGROUP2_SUPER_MAGIC, "cgroup2");
    }

    /**
     * Opens a cgroup v1 hierarchy at its mount point (found by {@link Hierarchies#v1}): kernfs too,
     * with the same ids, file handles and directory layout, so the same sources and sweeps keep it.
     */
    public static CgroupFs openV1(Path mountPoint) throws CgroupFsException {
        return mount(mountPoint, CGROUP_SUPER_MAGIC, "cgroup (v1)");
    }

    private static CgroupFs mount(Path mountPoint, long magic, String what) throws CgroupFsException {
        try {
            Libc.Statfs st = Libc.statfs(mountPoint.toString());
            if (st.type() != magic) {
                throw new CgroupFsException(mountPoint + " is not " + what + " (statfs f_type 0x"
                        + Long.toHexString(st.type()) + ")", null);
            }
            Fd root = Libc.open(mountPoint.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
            long rootId;
            try (Arena arena = Arena.ofConfined()) {
                rootId = new FileHandles(arena).kernfsId(root);
            } catch (SyscallException e) {
                root.closeQuietly();
                throw e;
            }
            return new CgroupFs(mountPoint, root, st.fsid0(), st.fsid1(), rootId);
        } catch (SyscallException e) {
            throw new CgroupFsException(e.getMessage(), e);
        }
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** The root directory, open; lives as long as this object. */
    public Fd rootFd() {
        return rootFd;
    }

    public int fsid0() {
        return fsid0;
    }

    public int fsid1() {
        return fsid1;
    }

    /** The root cgroup's id (1 on every kernel seen). */
    public long rootId() {
        return rootId;
    }

    /** The fsid as cgscope logs it: the two words in hex. */
    public String fsidText() {
        return String.format("%08x:%08x", fsid0, fsid1);
    }

    @Override
    public void close() {
        rootFd.closeQuietly();
    }
}
