package io.cgscope.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * Accepts the kernel refused: counted by errno ({@code cgscope_http_accept_errors_total}) and
 * logged at most once per {@link #LOG_INTERVAL_NANOS}, with how many there were since the last
 * line and never with a stack trace. (netty's own handling logs each one as a warning with the
 * stack, "An exceptionCaught() event was fired, and it reached at the tail of the pipeline",
 * once a second for as long as the process is out of fds.)
 *
 * <p>Java reports the errno of a failed {@code accept} only as its {@code strerror} text; the
 * errnos accept(2) can fail with for lack of resources or by policy are named from that text,
 * anything else is {@code other} (its text is in the log).
 */
final class AcceptErrors {
    private static final Logger LOG = Logger.getLogger(AcceptErrors.class.getName());
    static final long LOG_INTERVAL_NANOS = 10_000_000_000L;
    /** glibc's strerror text of the errnos accept(2) documents, as Java puts it in the exception. */
    private static final Map<String, String> ERRNO_BY_TEXT = Map.of(
            "Too many open files", "EMFILE",
            "Too many open files in system", "ENFILE",
            "No buffer space available", "ENOBUFS",
            "Cannot allocate memory", "ENOMEM",
            "Operation not permitted", "EPERM",
            "Protocol error", "EPROTO");

    private final Map<String, LongAdder> byErrno = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> sinceLogged = new ConcurrentHashMap<>();
    private long loggedAt;
    private boolean logged;

    AcceptErrors() {
        byErrno.put("EMFILE", new LongAdder()); // always exported, so a rate() over it works from the start
    }

    /** On the acceptor's thread: one refused accept; {@code open}: the connections HTTP holds now. */
    void failed(Throwable failure, int open) {
        String errno = errno(failure);
        byErrno.computeIfAbsent(errno, k -> new LongAdder()).increment();
        sinceLogged.computeIfAbsent(errno + " (" + failure.getMessage() + ")", k -> new LongAdder()).increment();
        long now = System.nanoTime();
        if (logged && now - loggedAt < LOG_INTERVAL_NANOS) {
            return;
        }
        StringBuilder what = new StringBuilder();
        long total = 0;
        for (Map.Entry<String, LongAdder> e : sinceLogged.entrySet()) {
            long n = e.getValue().sumThenReset();
            if (n > 0) {
                what.append(what.isEmpty() ? "" : ", ").append(e.getKey()).append(" x").append(n);
                total += n;
            }
        }
        LOG.warning("http: the kernel refused " + total + (total == 1 ? " accept" : " accepts")
                + (logged ? " in the last " + (now - loggedAt) / 1_000_000_000L + " s" : "") + ": " + what
                + "; " + open + " connections open; new connections wait in the listen backlog; retrying"
                + " (at most one such line per " + LOG_INTERVAL_NANOS / 1_000_000_000L
                + " s; counted in cgscope_http_accept_errors_total)");
        logged = true;
        loggedAt = now;
    }

    /** The errno name a failed accept reported, or {@code other}. */
    static String errno(Throwable failure) {
        String message = failure.getMessage();
        return message == null ? "other" : ERRNO_BY_TEXT.getOrDefault(message.strip(), "other");
    }

    /** errno name -> refused accepts, for the collector. */
    Map<String, LongAdder> byErrno() {
        return byErrno;
    }
}
