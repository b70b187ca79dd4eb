package io.cgscope.bpf;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Routes libbpf's messages, the verifier log included, into java.util.logging (logger
 * {@code io.cgscope.bpf.libbpf}); {@link LibBpf#setPrint} makes the upcall that brings them.
 *
 * <p>A thread can {@linkplain #capture() capture} the warnings libbpf prints while it loads or
 * attaches, so a failure carries libbpf's own reason (the verifier's last lines, say).
 */
final class LibBpfLog {
    static final Logger LOG = Logger.getLogger("io.cgscope.bpf.libbpf");
    private static final ThreadLocal<StringBuilder> CAPTURE = new ThreadLocal<>();
    private static boolean installed;

    private LibBpfLog() {
    }

    /** Installs the callback once per JVM; no-op when libbpf is missing. */
    static synchronized void install() {
        if (installed || !LibBpf.available()) {
            return;
        }
        installed = LibBpf.setPrint(LibBpfLog::print);
        if (!installed) {
            LOG.warning("cannot route libbpf's messages into the log");
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

    /** One message from libbpf ({@link LibBpf.Printer}); must not throw (the upcall guards it anyway). */
    private static void print(int level, String formatted) {
        String message = formatted.stripTrailing();
        Level jul = level == LibBpf.LIBBPF_WARN ? Level.WARNING : level == LibBpf.LIBBPF_INFO ? Level.FINE : Level.FINEST;
        StringBuilder capture = CAPTURE.get();
        if (capture != null && level == LibBpf.LIBBPF_WARN) {
            capture.append(message).append('\n');
            // While capturing, the caller reports the failure with its reason: keep the log at FINE
            // so one failure is one warning line, and the full text is there with --log.level=debug.
            jul = Level.FINE;
        }
        if (LOG.isLoggable(jul)) {
            LOG.log(jul, "libbpf: " + message);
        }
    }
}
