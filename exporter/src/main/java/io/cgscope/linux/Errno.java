package io.cgscope.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** errno values the project branches on ({@code <asm-generic/errno-base.h>, <asm-generic/errno.h>}), and their text. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int ENOSYS = 38;
    public static final int ENOTEMPTY = 39;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;
    public static final int ESTALE = 116;
    /** Kernel-internal ({@code <linux/errno.h>}, not uapi), yet it reaches user space from some bpf map operations. */
    public static final int ENOTSUPP = 524;

    // const char *strerrorname_np(int errnum);  <string.h>, glibc >= 2.32, thread-safe
    private static final MethodHandle STRERRORNAME_NP = Libc.plain("strerrorname_np",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    // const char *strerrordesc_np(int errnum);  <string.h>, glibc >= 2.32, thread-safe
    private static final MethodHandle STRERRORDESC_NP = Libc.plain("strerrordesc_np",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Errno() {
    }

    /** {@code "ENOENT (No such file or directory)"}; never throws. */
    public static String describe(int errno) {
        String name = cString(STRERRORNAME_NP, errno);
        String text = cString(STRERRORDESC_NP, errno);
        if (name == null) {
            return "errno " + errno + (text == null ? "" : " (" + text + ")");
        }
        return name + (text == null ? "" : " (" + text + ")");
    }

    /** glibc's name of an errno ({@code "EPIPE"}), or null when it has none; never throws. */
    public static String name(int errno) {
        return errno <= 0 ? null : cString(STRERRORNAME_NP, errno);
    }

    private static String cString(MethodHandle handle, int errno) {
        if (handle == null) {
            return null;
        }
        try {
            MemorySegment s = (MemorySegment) handle.invokeExact(errno);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
