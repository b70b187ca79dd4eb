package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The process's limit on open files ({@code RLIMIT_NOFILE}): {@code getrlimit} and
 * {@code setrlimit}. Raising the soft limit up to the hard one needs no privilege.
 */
public final class Rlimits {
    // int getrlimit(int resource, struct rlimit *rlim);  <sys/resource.h>
    private static final MethodHandle GETRLIMIT = Libc.withErrno("getrlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    // int setrlimit(int resource, const struct rlimit *rlim);  <sys/resource.h>
    private static final MethodHandle SETRLIMIT = Libc.withErrno("setrlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

    private static final int RLIMIT_NOFILE = 7;             // <asm-generic/resource.h>
    /** {@code RLIM_INFINITY} ({@code <asm-generic/resource.h>}): all bits of the unsigned rlim_t set. */
    public static final long INFINITY = -1L;
    // struct rlimit { rlim_t rlim_cur; rlim_t rlim_max; };  rlim_t is an unsigned long (x86-64: 8 bytes)
    private static final StructLayout RLIMIT = MemoryLayout.structLayout(
            JAVA_LONG.withName("rlim_cur"), JAVA_LONG.withName("rlim_max"));

    /** A soft (enforced) and a hard (ceiling) limit; {@link #INFINITY} for none. */
    public record Limit(long soft, long hard) {
        @Override
        public String toString() {
            return text(soft) + ":" + text(hard);
        }

        private static String text(long v) {
            return v == INFINITY ? "unlimited" : Long.toUnsignedString(v);
        }
    }

    private Rlimits() {
    }

    /** {@code getrlimit(RLIMIT_NOFILE)}. */
    public static Limit openFiles() throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rlim = arena.allocate(RLIMIT);
            MemorySegment state = Libc.callState();
            int rc = (int) GETRLIMIT.invokeExact(state, RLIMIT_NOFILE, rlim);
            if (rc < 0) {
                throw new SyscallException("getrlimit(RLIMIT_NOFILE)", Libc.errno(state));
            }
            return new Limit(rlim.get(JAVA_LONG, 0), rlim.get(JAVA_LONG, 8));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code setrlimit(RLIMIT_NOFILE, limit)}: EPERM when raising the hard limit without CAP_SYS_RESOURCE. */
    public static void setOpenFiles(Limit limit) throws SyscallException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rlim = arena.allocate(RLIMIT);
            rlim.set(JAVA_LONG, 0, limit.soft());
            rlim.set(JAVA_LONG, 8, limit.hard());
            MemorySegment state = Libc.callState();
            int rc = (int) SETRLIMIT.invokeExact(state, RLIMIT_NOFILE, rlim);
            if (rc < 0) {
                throw new SyscallException("setrlimit(RLIMIT_NOFILE, " + limit + ")", Libc.errno(state));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
