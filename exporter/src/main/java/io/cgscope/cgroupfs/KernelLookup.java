package io.cgscope.cgroupfs;

import io.cgscope.index.CgroupIndex;
import io.cgscope.linux.Errno;
import io.cgscope.linux.Fd;
import io.cgscope.linux.FileHandles;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;

/**
 * The on-demand lookup behind {@link CgroupIndex#lookup}: asks the kernel about an id the index
 * does not know. {@code open_by_handle_at} opens the cgroup by id, {@code /proc/self/fd} gives its
 * path, and {@code name_to_handle_at} the id of each ancestor on that path. Needs
 * CAP_DAC_READ_SEARCH: once refused (after the privilege drop) it fails every call at once without
 * asking again (the index counts the failures); {@link #refused()} says so.
 */
public final class KernelLookup implements LongFunction<List<CgroupIndex.Discovered>> {
    private final CgroupFs fs;
    private final FileHandles handles = new FileHandles(Arena.global());
    private final AtomicBoolean refused = new AtomicBoolean();

    public KernelLookup(CgroupFs fs) {
        this.fs = fs;
    }

    /** Whether the kernel refused handle lookups (no CAP_DAC_READ_SEARCH). */
    public boolean refused() {
        return refused.get();
    }

    @Override
    public synchronized List<CgroupIndex.Discovered> apply(long id) {
        if (id == 0) {
            return List.of();
        }
        if (refused.get()) {
            // Not "unknown": the index counts this as a failed lookup (cgscope_index_lookup_failures_total).
            throw new IllegalStateException("open_by_handle_at refused (no CAP_DAC_READ_SEARCH after the privilege drop)");
        }
        Fd dir;
        try {
            dir = handles.openById(fs.rootFd(), id);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                refused.set(true);
                throw new IllegalStateException(e.getMessage(), e);
            }
            throw new IllegalStateException(e.getMessage(), e);
        }
        if (dir == null) {
            return List.of();
        }
        try {
            Path where = Files.readSymbolicLink(Path.of("/proc/self/fd/" + dir.get()));
            if (!where.startsWith(fs.mountPoint()) || where.toString().endsWith(" (deleted)")) {
                return List.of(); // removed while we looked (its DELETE names it), or not below this mount
            }
            Path relative = fs.mountPoint().relativize(where);
            if (relative.toString().isEmpty()) {
                return List.of(); // the root is always known
            }
            List<CgroupIndex.Discovered> chain = new ArrayList<>(relative.getNameCount());
            long parentId = fs.rootId();
            StringBuilder prefix = new StringBuilder();
            for (Path segment : relative) {
                byte[] name = segment.toString().getBytes(StandardCharsets.UTF_8);
                if (!prefix.isEmpty()) {
                    prefix.append('/');
                }
                prefix.append(segment);
                long segmentId = handles.kernfsId(fs.rootFd().get(), prefix.toString().getBytes(StandardCharsets.UTF_8));
                if (segmentId == FileHandles.NO_ID) {
                    return List.of();
                }
                chain.add(new CgroupIndex.Discovered(segmentId, parentId, name));
                parentId = segmentId;
            }
            return parentId == id ? chain : List.of();
        } catch (IOException e) { // SyscallException included
            return List.of();
        } finally {
            dir.closeQuietly();
        }
    }
}
