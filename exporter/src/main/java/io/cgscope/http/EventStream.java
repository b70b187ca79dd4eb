package io.cgscope.http;

import io.cgscope.index.Cgroup;
import io.cgscope.index.ChangeLog;
import io.cgscope.index.IndexChange;
import io.cgscope.workload.WorkloadResolver;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * One Server-Sent Events stream: reads the index's change history from its own position and
 * writes {@code create}, {@code delete} and {@code oom_kill} events, each with its sequence number
 * as {@code id:}.
 *
 * <p><b>It never holds the index back.</b> The index only signals it ({@link ChangeLog#subscribe});
 * the stream then reads on its own event loop. When the client does not take the bytes (the write
 * queue is full) the stream stops writing and waits for the queue to drain, so a client catching
 * up on a long history gets it at its own pace. A client is dropped (the connection reset) when
 * it has fallen so far behind that its next event left the history, or when its queue stayed full
 * for the stall limit. A stream never skips events silently: reconnecting with
 * {@code Last-Event-ID} then starts with {@code event: reset}, and the stream continues from the
 * newest change.
 *
 * <p>All state but {@link #scheduled} is touched on the stream's event loop only.
 */
final class EventStream {
    private static final Logger LOG = Logger.getLogger(EventStream.class.getName());
    private static final int BATCH = 256;
    /** Batches per turn on the event loop before yielding to other connections. */
    private static final int BATCHES_PER_TURN = 16;

    private final EventStreams owner;
    private final RoutingContext ctx;
    private final HttpServerResponse response;
    private final ChangeLog changes;
    private final Context context;
    private final Vertx vertx;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();
    private long position;
    private final long requestedAfter;
    private boolean paused;
    /** Bundles of this stream's next batch are being read on a worker thread. */
    private boolean readingBundles;
    private long pausedSinceNanos;
    private long lastWriteNanos;
    private long timer = -1;
    private AutoCloseable subscription;

    /** @param resumeAfter the client's {@code Last-Event-ID}, or -1 to start with the next change */
    EventStream(EventStreams owner, RoutingContext ctx, ChangeLog changes, long resumeAfter) {
        this.owner = owner;
        this.ctx = ctx;
        this.response = ctx.response();
        this.changes = changes;
        this.context = Vertx.currentContext();
        this.vertx = ctx.vertx();
        this.requestedAfter = resumeAfter;
    }

    void start() {
        response.setStatusCode(200)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache")
                // Compression would hold events back in the compressor's buffer.
                .putHeader("Content-Encoding", "identity")
                .putHeader("X-Accel-Buffering", "no")
                .setChunked(true)
                .setWriteQueueMaxSize(EventStreams.WRITE_QUEUE_BYTES);
        response.closeHandler(v -> ended());
        response.exceptionHandler(e -> ended());
        if (ctx.request().method() == HttpMethod.HEAD) {
            response.end();
            ended();
            return;
        }
        long last = changes.lastSeq();
        StringBuilder first = new StringBuilder(256).append("retry: 1000\n\n");
        if (requestedAfter < 0) {
            position = last;
        } else if (requestedAfter > last) {
            position = last;
            reset(first, "event " + requestedAfter + " is newer than this process's newest event " + last
                    + " (cgscope restarted?)");
        } else if (requestedAfter + 1 < changes.firstSeq()) {
            position = last;
            reset(first, "events " + (requestedAfter + 1) + " to " + (changes.firstSeq() - 1)
                    + " are no longer in the history of " + changes.capacity() + " events");
        } else {
            position = requestedAfter;
        }
        subscription = changes.subscribe(this::wakeUp);
        write(first);
        timer = vertx.setPeriodic(Math.min(1000, owner.heartbeat().toMillis()), id -> tick());
        pump();
    }

    /** On the index writer thread: must return at once. */
    private void wakeUp() {
        if (scheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> {
                scheduled.set(false);
                pump();
            });
        }
    }

    private void pump() {
        if (ended.get()) {
            return;
        }
        if (paused || readingBundles) {
            if (position + 1 < changes.firstSeq()) {
                drop("fell behind the history of " + changes.capacity() + " events");
            }
            return;
        }
        for (int turn = 0; turn < BATCHES_PER_TURN; turn++) {
            List<IndexChange> batch = changes.after(position, BATCH);
            if (batch == null) {
                // Its next event is gone. A live stream never skips silently: the client reconnects
                // with Last-Event-ID and is told with event: reset.
                drop("fell behind the history of " + changes.capacity() + " events");
                return;
            }
            if (batch.isEmpty()) {
                return;
            }
            if (readBundlesFirst(batch)) {
                return; // pumps again once they are read
            }
            StringBuilder sb = new StringBuilder(BATCH * 256);
            for (IndexChange c : batch) {
                sb.append("id: ").append(c.seq()).append("\nevent: ").append(c.type().label()).append("\ndata: ");
                if (c.type() == IndexChange.Type.OOM_KILL) {
                    Json.oomKill(sb, c.oomKill()).append("\n\n");
                } else {
                    Cgroup cgroup = c.cgroup();
                    Json.cgroup(sb, cgroup, owner.workloads().of(cgroup.id(), cgroup.path()), c.time()).append("\n\n");
                }
            }
            position = batch.getLast().seq();
            write(sb);
            if (response.writeQueueFull()) {
                paused = true;
                pausedSinceNanos = System.nanoTime();
                response.drainHandler(v -> {
                    paused = false;
                    pump();
                });
                return;
            }
        }
        wakeUp(); // more to send: continue after the other connections had their turn
    }

    /**
     * Reads, on a worker thread, the bundles of containers created in this batch that nobody read
     * yet (the bundle tracker reads them too, but up to 100 ms later), so that their events carry
     * the names and the event loop never reads a file. True when it started reading: the stream
     * pumps again when done.
     */
    private boolean readBundlesFirst(List<IndexChange> batch) {
        WorkloadResolver workloads = owner.workloads();
        List<Cgroup> unread = null;
        for (IndexChange c : batch) {
            if (c.type() == IndexChange.Type.CREATE && c.nameLength() >= 64) {
                Cgroup cgroup = c.cgroup();
                if (workloads.wouldRead(cgroup.path())) {
                    if (unread == null) {
                        unread = new ArrayList<>();
                    }
                    unread.add(cgroup);
                }
            }
        }
        if (unread == null) {
            return false;
        }
        List<Cgroup> toRead = unread;
        readingBundles = true;
        context.executeBlocking(() -> {
            for (Cgroup c : toRead) {
                workloads.of(c.id(), c.path());
            }
            return null;
        }, false).onComplete(ar -> {
            readingBundles = false;
            pump();
        });
        return true;
    }

    /** {@code event: reset}: the client missed events and should re-read {@code /cgroups}. */
    private void reset(StringBuilder sb, String why) {
        owner.resets.increment();
        long continueAt = changes.lastSeq();
        sb.append("id: ").append(continueAt).append("\nevent: reset\ndata: {\"reason\":");
        Json.string(sb, why + "; events were missed: re-read /cgroups, the stream continues after event "
                + continueAt);
        sb.append(",\"last_event_id\":").append(requestedAfter)
                .append(",\"first_event_id\":").append(changes.firstSeq())
                .append(",\"continues_after\":").append(continueAt).append("}\n\n");
    }

    private void write(StringBuilder sb) {
        if (!sb.isEmpty()) {
            response.write(Buffer.buffer(sb.toString()));
            lastWriteNanos = System.nanoTime();
        }
    }

    private void tick() {
        if (ended.get()) {
            return;
        }
        long now = System.nanoTime();
        if (paused) {
            if (now - pausedSinceNanos > owner.stallLimit().toNanos()) {
                drop("took no bytes for " + owner.stallLimit().toSeconds() + " s");
            } else if (position + 1 < changes.firstSeq()) {
                drop("fell behind the history of " + changes.capacity() + " events");
            }
            return;
        }
        if (now - lastWriteNanos >= owner.heartbeat().toNanos()) {
            write(new StringBuilder(": keep-alive\n\n"));
        }
    }

    private void drop(String why) {
        owner.dropped.increment();
        LOG.fine("dropping event stream to " + ctx.request().remoteAddress() + ": " + why);
        // Not connection().close(): that is graceful and would wait for this response to end.
        response.reset();
        ended();
    }

    /** Ends the stream from any thread (server stop). */
    void close() {
        context.runOnContext(v -> {
            if (!ended.get()) {
                response.end();
                ended();
            }
        });
    }

    private void ended() {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (subscription != null) {
            try {
                subscription.close();
            } catch (Exception ignored) {
                // removing from a list does not fail
            }
        }
        owner.ended(this);
    }
}
