package io.cgscope.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A shared mapping of a file descriptor's memory ({@code mmap(2)}), unmapped exactly once: for
 * memory the kernel shares with cgscope, such as a BPF ring buffer's positions and data. The
 * segment must not be used after {@link #close()} (its owner, one reader thread, closes it last).
 */
public final class MappedRegion implements AutoCloseable {
    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);  <sys/mman.h>
    private static final MethodHandle MMAP = Libc.withErrno("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    // int munmap(void *addr, size_t length);  <sys/mman.h>
    private static final MethodHandle MUNMAP = Libc.withErrno("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    // int getpagesize(void);  <unistd.h>
    private static final MethodHandle GETPAGESIZE = Libc.plain("getpagesize", FunctionDescriptor.of(JAVA_INT));

    private static final int PROT_READ = 0x1;     // <sys/mman.h>
    private static final int PROT_WRITE = 0x2;    // <sys/mman.h>
    private static final int MAP_SHARED = 0x01;   // <sys/mman.h>
    private static final long MAP_FAILED = -1L;   // <sys/mman.h>: (void *) -1

    private final MemorySegment segment;
    private final String what;
    private final AtomicBoolean unmapped = new AtomicBoolean();

    private MappedRegion(MemorySegment segment, String what) {
        this.segment = segment;
        this.what = what;
    }

    /**
     * Maps {@code length} bytes of {@code fd} from {@code offset}, shared, read-only or read-write.
     *
     * @param what names the mapping in errors, e.g. {@code "ring buffer events"}
     */
    public static MappedRegion map(int fd, long offset, long length, boolean writable, String what)
            throws SyscallException {
        MemorySegment state = Libc.callState();
        MemorySegment address;
        try {
            address = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length,
                    writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, offset);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (address.address() == MAP_FAILED) {
            throw new SyscallException("mmap(" + what + ", " + length + " bytes at " + offset + ")", Libc.errno(state));
        }
        return new MappedRegion(address.reinterpret(length), what);
    }

    /** The page size ({@code getpagesize()}), the unit of every mapping's offset. */
    public static int pageSize() {
        try {
            return (int) GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** The mapped bytes; valid until {@link #close()}. */
    public MemorySegment segment() {
        return segment;
    }

    /** Unmaps; idempotent. A failure (only a programming error could cause one) is ignored. */
    @Override
    public void close() {
        if (unmapped.compareAndSet(false, true)) {
            try {
                int rc = (int) MUNMAP.invokeExact(Libc.callState(), segment, segment.byteSize());
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
        }
    }

    @Override
    public String toString() {
        return what + " mapping of " + segment.byteSize() + " bytes";
    }
}
