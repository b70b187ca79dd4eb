package io.cgscope.bpf;

import io.cgscope.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Routes libbpf's messages, the verifier log included, into java.util.logging (logger
 * {@code io.cgscope.bpf.libbpf}) through a {@code libbpf_set_print} upcall. The stub lives in
 * {@link Arena#global()} (libbpf keeps the pointer forever) and never throws: an exception
 * escaping an upcall would crash the JVM.
 *
 * <p>A thread can {@linkplain #capture() capture} the warnings libbpf prints while it loads or
 * attaches, so a failure carries libbpf's own reason (the verifier's last lines, say).
 */
final class LibBpfLog {
    static final Logger LOG = Logger.getLogger("io.cgscope.bpf.libbpf");
    private static final int LIBBPF_WARN = 0;   // enum libbpf_print_level
    private static final int LIBBPF_INFO = 1;
    /** x86-64 {@code va_list}: {gp_offset, fp_offset, overflow_arg_area, reg_save_area}, 24 bytes. */
    private static final long VA_LIST_SIZE = 24;
    private static final int FIRST_BUFFER = 4096;
    private static final int MAX_MESSAGE = 1 << 20;
    private static final ThreadLocal<StringBuilder> CAPTURE = new ThreadLocal<>();
    private static boolean installed;

    private LibBpfLog() {
    }

    /** Installs the callback once per JVM; no-op when libbpf is missing. */
    static synchronized void install() {
        if (installed || !LibBpf.available() || LibBpf.SET_PRINT == null) {
            return;
        }
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(LibBpfLog.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = LibBpf.linker().upcallStub(target,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS),
                    Arena.global());
            MemorySegment previous = (MemorySegment) LibBpf.SET_PRINT.invokeExact(stub); // libbpf's stderr printer
            installed = true;
        } catch (Throwable t) {
            LOG.warning("cannot route libbpf's messages into the log: " + t);
        }
    }

    /** Starts collecting this thread's libbpf warnings; {@link #take()} returns and stops. */
    static void capture() {
        CAPTURE.set(new StringBuilder());
    }

    /**
     * The warnings collected since {@link #capture()}, trimmed to the last lines and joined into one
     * line with {@code " / "} (a reason fits a log line), and stops collecting.
     */
    static String take() {
        StringBuilder sb = CAPTURE.get();
        CAPTURE.remove();
        if (sb == null) {
            return "";
        }
        String tail = lastLines(sb.toString().strip(), 8, 1500);
        return String.join(" / ", tail.lines().map(String::strip).filter(l -> !l.isEmpty())
                .map(l -> l.startsWith("libbpf: ") ? l.substring(8) : l).toList());
    }

    /** The last {@code lines} lines of a text, at most {@code maxChars} characters. */
    static String lastLines(String text, int lines, int maxChars) {
        int end = text.length();
        int start = end;
        for (int n = 0; n < lines && start > 0; n++) {
            int nl = text.lastIndexOf('\n', start - 1);
            start = nl < 0 ? 0 : nl;
        }
        String tail = text.substring(start).strip();
        return tail.length() > maxChars ? tail.substring(tail.length() - maxChars) : tail;
    }

    /** The upcall: {@code int (*)(enum libbpf_print_level level, const char *fmt, va_list ap)}. */
    private static int print(int level, MemorySegment format, MemorySegment vaList) {
        try {
            String message = format(format, vaList);
            if (message == null) {
                return 0;
            }
            message = message.stripTrailing();
            Level jul = level == LIBBPF_WARN ? Level.WARNING : level == LIBBPF_INFO ? Level.FINE : Level.FINEST;
            StringBuilder capture = CAPTURE.get();
            if (capture != null && level == LIBBPF_WARN) {
                capture.append(message).append('\n');
                // While capturing, the caller reports the failure with its reason: keep the log at FINE
                // so one failure is one warning line, and the full text is there with --log.level=debug.
                jul = Level.FINE;
            }
            if (LOG.isLoggable(jul)) {
                LOG.log(jul, "libbpf: " + message);
            }
            return message.length();
        } catch (Throwable t) {
            return 0; // never let anything escape into native code
        }
    }

    private static String format(MemorySegment format, MemorySegment vaList) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fmt = format.reinterpret(Long.MAX_VALUE);
            MemorySegment ap = vaList.reinterpret(VA_LIST_SIZE);
            // vsnprintf consumes the va_list in place: keep a copy (what va_copy does on x86-64) for a retry.
            MemorySegment copy = arena.allocate(VA_LIST_SIZE, 8).copyFrom(ap);
            MemorySegment buf = arena.allocate(FIRST_BUFFER);
            int n = Libc.vsnprintf(buf, fmt, ap);
            if (n < 0) {
                return null;
            }
            if (n >= FIRST_BUFFER) {
                buf = arena.allocate(Math.min(n + 1, MAX_MESSAGE));
                if (Libc.vsnprintf(buf, fmt, copy) < 0) {
                    return null;
                }
            }
            String s = buf.getString(0);
            return s;
        }
    }
}
