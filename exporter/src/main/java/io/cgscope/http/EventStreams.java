package io.cgscope.http;

import io.cgscope.index.ChangeLog;
import io.cgscope.workload.WorkloadResolver;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code GET /events}: admits at most {@code --web.max-streams} concurrent Server-Sent Event
 * streams, each an {@link EventStream} reading the index's change history.
 */
final class EventStreams {
    /** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
    static final Duration HEARTBEAT = Duration.ofSeconds(15);
    /** A stream whose client has not taken its bytes for this long is dropped. */
    static final Duration STALL_LIMIT = Duration.ofSeconds(10);
    /** Bytes a stream may have waiting for its client before it stops writing and waits. */
    static final int WRITE_QUEUE_BYTES = 256 * 1024;

    private final ChangeLog changes;
    private final WorkloadResolver workloads;
    private final int maxStreams;
    private final Duration heartbeat;
    private final Duration stallLimit;
    private final AtomicInteger open = new AtomicInteger();
    private final Set<EventStream> streams = ConcurrentHashMap.newKeySet();
    final LongAdder started = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder resets = new LongAdder();

    EventStreams(ChangeLog changes, WorkloadResolver workloads, int maxStreams) {
        this(changes, workloads, maxStreams, HEARTBEAT, STALL_LIMIT);
    }

    /** Tests shorten the heartbeat and the stall limit. */
    EventStreams(ChangeLog changes, WorkloadResolver workloads, int maxStreams, Duration heartbeat,
                 Duration stallLimit) {
        this.changes = changes;
        this.workloads = workloads;
        this.maxStreams = maxStreams;
        this.heartbeat = heartbeat;
        this.stallLimit = stallLimit;
    }

    /** What each event's cgroup is ({@code "workload"}). */
    WorkloadResolver workloads() {
        return workloads;
    }

    void handle(RoutingContext ctx) {
        String lastEventId = ctx.request().getHeader("Last-Event-ID");
        long resumeAfter = -1;
        if (lastEventId != null && !lastEventId.isBlank()) {
            try {
                resumeAfter = Long.parseLong(lastEventId.strip());
            } catch (NumberFormatException e) {
                resumeAfter = -2;
            }
            if (resumeAfter < 0) {
                throw Errors.badRequest("Last-Event-ID \"" + Errors.echo(lastEventId)
                        + "\" is not an event id of this stream (a number)");
            }
        }
        Query.of(ctx, Set.of());
        if (maxStreams == 0) {
            throw new Errors.Refused(503, "event streams are disabled (--web.max-streams=0)");
        }
        if (open.incrementAndGet() > maxStreams) {
            open.decrementAndGet();
            rejected.increment();
            ctx.response().putHeader("Retry-After", "5");
            Errors.send(ctx.response(), 503, "too many event streams: at most " + maxStreams
                    + " at a time (--web.max-streams)");
            return;
        }
        started.increment();
        EventStream stream = new EventStream(this, ctx, changes, resumeAfter);
        streams.add(stream);
        stream.start();
    }

    int open() {
        return open.get();
    }

    Duration heartbeat() {
        return heartbeat;
    }

    Duration stallLimit() {
        return stallLimit;
    }

    /** Called once per stream when it ends, however it ends. */
    void ended(EventStream stream) {
        if (streams.remove(stream)) {
            open.decrementAndGet();
        }
    }

    /** Ends every stream (on stop), so a graceful server shutdown does not wait for them. */
    void closeAll() {
        for (EventStream s : streams) {
            s.close();
        }
    }
}
