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
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;

/**
 * The on-demand lookup behind {@link CgroupIndex#lookup}: asks the kernel about an id the index
 * does not know ({@code open_by_handle_at}, then the directory's path from {@code /proc/self/fd}
 * and its parent's id from {@code name_to_handle_at(fd, "..")}). Needs CAP_DAC_READ_SEARCH: once
 * refused (after the privilege drop) it answers "unknown" without asking again, counted by the index.
 */
public final class KernelLookup implements LongFunction<Optional<CgroupIndex.Discovered>> {
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
    public synchronized Optional<CgroupIndex.Discovered> apply(long id) {
        if (refused.get() || id == 0) {
            return Optional.empty();
        }
        Fd dir;
        try {
            dir = handles.openById(fs.rootFd(), id);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EPERM || e.errno() == Errno.EACCES) {
                refused.set(true);
                return Optional.empty();
            }
            throw new IllegalStateException(e.getMessage(), e);
        }
        if (dir == null) {
            return Optional.empty();
        }
        try {
            Path where = Files.readSymbolicLink(Path.of("/proc/self/fd/" + dir.get()));
            Path relative = fs.mountPoint().relativize(where);
            if (relative.toString().isEmpty() || relative.startsWith("..")) {
                return Optional.empty(); // the root, or outside the hierarchy as mounted here
            }
            long parentId = handles.kernfsId(dir.get(), "..".getBytes(StandardCharsets.US_ASCII));
            if (parentId == FileHandles.GONE) {
                return Optional.empty();
            }
            byte[] name = relative.getFileName().toString().getBytes(StandardCharsets.UTF_8);
            if (where.toString().endsWith(" (deleted)")) {
                return Optional.empty(); // removed while we looked: its DELETE event names it
            }
            return Optional.of(new CgroupIndex.Discovered(id, parentId, name));
        } catch (IOException e) {
            return Optional.empty();
        } finally {
            dir.closeQuietly();
        }
    }
}
