package io.cgscope.http;

import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Every HTTP connection from accept to the release of its fd, so that idle and slow clients cannot take the port
 * from Prometheus: at most {@link FdBudget#cap} of them, each in a {@link Connection.Phase}.
 * <ul>
 *   <li><b>Header timeout.</b> A connection READING a request (from its accept, TLS handshake
 *       included, or from its first byte after the last response) for {@code
 *       --web.read-header-timeout} is closed: counted from the start, so a slowloris sending a
 *       byte a second gains nothing.</li>
 *   <li><b>Idle timeout.</b> A connection IDLE between requests for {@code --web.idle-timeout} is
 *       closed. A BUSY one (its response in progress; an {@code /events} stream is one, bounded
 *       by {@code --web.max-streams} and its own stall limit) has no timeout here.</li>
 *   <li><b>Eviction.</b> A connection that opens at the cap closes the READING connection that
 *       has been silent the longest, preferring those cgscope has written nothing to, or else the
 *       oldest IDLE one; only when every other connection is BUSY is the new one closed
 *       ({@code limit}). Safe for real clients: they send their request as soon as they are
 *       connected (it is usually waiting in the socket when cgscope accepts), and a TLS client
 *       whose handshake is under way has been answered and answers within a round trip, so a real
 *       client is never the longest silent while a flood of connections that send nothing (or a
 *       byte a second, or half a ClientHello) lasts. A server may close an idle kept-alive
 *       connection at any time (RFC 9112 9.6); clients open a new one. (Evicting the oldest by
 *       start time instead evicted a scraper in mid-handshake when a burst of more than the cap
 *       of half-open TLS connections arrived during its handshake.)</li>
 * </ul>
 * READING connections sit in two queues in the order they were last heard from, IDLE ones in
 * the order they became idle: eviction takes the heads; the sweep (a few times per timeout)
 * closes the expired IDLE ones from the head and looks at each READING one (at most the cap,
 * nanoseconds each). Each request costs a few clock reads and queue steps, no allocation.
 *
 * <p><b>When an fd is free again.</b> {@link #open} counts the sockets that hold an fd, and the
 * acceptor takes no more than the budget allows. Closing a NIO channel that is registered with a
 * selector does not free its fd number: the JDK finishes the close when the selector next
 * selects (until then the number points at a pre-closed socket). A flood evicts hundreds of
 * connections between two selects, and counting them free at once let the process reach its
 * limit (measured: EMFILE at 383 sockets counted of 640). So a closed connection is counted
 * free only once its event loop has selected since: the loop's {@link #selecting select
 * strategy} tells.
 *
 * <p>Threads: the phases, the queues, the sweep and the releases run on the one event loop of
 * the HTTP server (HttpComponent runs one); the acceptor thread touches only {@link #open} and
 * the budget.
 */
final class Connections {
    /** How far the acceptor may run ahead of the event loop's evictions: two batches of accepts. */
    static final int ACCEPT_AHEAD = 32;

    enum Reason {
        HEADER_TIMEOUT("header_timeout"), IDLE("idle"), EVICTED("evicted"), LIMIT("limit");

        final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    /** A queue of connections, linked through their own fields. */
    static final class Queue {
        private Connection head;
        private Connection tail;

        void add(Connection c) {
            c.queue = this;
            c.prev = tail;
            c.next = null;
            if (tail == null) {
                head = c;
            } else {
                tail.next = c;
            }
            tail = c;
        }

        void remove(Connection c) {
            if (c.prev == null) {
                head = c.next;
            } else {
                c.prev.next = c.next;
            }
            if (c.next == null) {
                tail = c.prev;
            } else {
                c.next.prev = c.prev;
            }
            c.prev = c.next = null;
            c.queue = null;
        }

        Connection first() {
            return head;
        }

        Connection last() {
            return tail;
        }
    }

    private final FdBudget budget;
    private final long headerTimeoutNanos;
    private final long idleTimeoutNanos;
    private final long sweepMillis;
    /** Sockets accepted and not yet closed: what HTTP holds of the fd table. */
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder[] closed = new LongAdder[Reason.values().length];
    private volatile GuardedServerChannel acceptor;

    // The event loop's.
    /** READING, cgscope has written nothing to them yet; in the order last heard from. */
    private final Queue reading = new Queue();
    /** READING, cgscope has written to them (a TLS handshake under way); in the order last heard from. */
    private final Queue talking = new Queue();
    /** IDLE; in the order they became idle. */
    private final Queue idle = new Queue();
    /** The order eviction takes them in. */
    private final Queue[] evictionOrder = {reading, talking, idle};
    private final Queue[] readingQueues = {reading, talking};
    private int active;
    private volatile Thread loopThread;
    private EventLoop loop;
    /** Closed since the loop's last select began: their fds are freed by its next select. */
    private int closedSinceSelect;
    /** Closed before the select now under way began: free once it is done. */
    private int closedBeforeSelect;
    private volatile ScheduledFuture<?> sweeper;
    private boolean warnedUntracked;

    Connections(FdBudget budget, Duration headerTimeout, Duration idleTimeout) {
        this.budget = budget;
        this.headerTimeoutNanos = headerTimeout.toNanos();
        this.idleTimeoutNanos = idleTimeout.toNanos();
        // Closed within a tenth of the shorter timeout after it expired, at most a second late.
        this.sweepMillis = Math.clamp(Math.min(headerTimeout.toMillis(), idleTimeout.toMillis()) / 10, 20, 1000);
        for (Reason r : Reason.values()) {
            closed[r.ordinal()] = new LongAdder();
        }
    }

    FdBudget budget() {
        return budget;
    }

    int open() {
        return open.get();
    }

    long closed(Reason reason) {
        return closed[reason.ordinal()].sum();
    }

    // ---- the acceptor's thread ----

    void acceptor(GuardedServerChannel channel) {
        acceptor = channel;
    }

    /** Whether the acceptor may take another socket from the backlog now. */
    boolean mayAccept() {
        return open.get() < budget.cap() + ACCEPT_AHEAD;
    }

    /**
     * Whether a paused acceptor should go on: once half its lead is free again, not at every
     * freed fd (waking its selector from this loop cost a third of the loop's time in a flood).
     */
    private boolean mayResume() {
        return open.get() <= budget.cap() + ACCEPT_AHEAD / 2;
    }

    /** Before an accept: recounts the fds the rest of the process holds, once a second. */
    void beforeAccept() {
        budget.refresh(open.get());
    }

    /** A socket was accepted: it is tracked from its first handler until its fd is freed. */
    void accepted(NioSocketChannel child) {
        open.incrementAndGet();
        child.closeFuture().addListener(f -> closed(child));
        child.pipeline().addFirst(Connection.NAME, new Connection(this));
    }

    // ---- the event loop's ----

    /** The channel closed: its fd is freed by its loop's next select. */
    private void closed(NioSocketChannel child) {
        bind(child.eventLoop());
        closedSinceSelect++;
    }

    /**
     * Called by every event loop's select strategy just before it selects: frees the fds of the
     * connections closed before the previous select, and lets the acceptor go on if it waited.
     */
    void selecting() {
        if (Thread.currentThread() != loopThread) {
            return; // the acceptor's loop, or a loop without connections
        }
        int released = closedBeforeSelect;
        closedBeforeSelect = closedSinceSelect;
        closedSinceSelect = 0;
        if (closedBeforeSelect > 0) {
            loop.execute(Connections::nothing); // another turn soon, not only at the next I/O or timer
        }
        if (released > 0) {
            open.addAndGet(-released);
            GuardedServerChannel a = acceptor;
            if (a != null && a.paused() && mayResume()) {
                a.resume();
            }
        }
    }

    private static void nothing() {
    }

    private void bind(EventLoop l) {
        if (loop == null) {
            loop = l;
            loopThread = Thread.currentThread();
            sweeper = loop.scheduleAtFixedRate(this::sweep, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
        } else if (l != loop) {
            throw new IllegalStateException("HTTP connections on two event loops: Connections expects one");
        }
    }

    void opened(Connection c) {
        bind(c.ctx.channel().eventLoop());
        active++;
        enter(c, reading, System.nanoTime());
        if (active > budget.cap()) {
            makeRoomFor(c);
        }
    }

    /**
     * At the cap: the longest silent READING connection that cgscope has not answered goes, else
     * the longest silent one it has (a TLS handshake under way), else the oldest IDLE one, else
     * the newcomer.
     */
    private void makeRoomFor(Connection newcomer) {
        Connection victim = evictable(newcomer);
        if (victim == null) {
            close(newcomer, Reason.LIMIT);
        } else {
            close(victim, Reason.EVICTED);
        }
    }

    private Connection evictable(Connection except) {
        for (Queue q : evictionOrder) {
            Connection c = q.first();
            if (c == except) {
                c = c.next;
            }
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    /** READING: a byte came; it goes to the end of its queue (the most recently heard). */
    void heard(Connection c) {
        Queue q = c.queue;
        if (q != null && q.last() != c) {
            q.remove(c);
            q.add(c);
        }
    }

    /** READING: cgscope wrote to it (TLS handshake records): evicted after the silent ones. */
    void spoke(Connection c) {
        if (c.queue == reading) {
            reading.remove(c);
            talking.add(c);
        }
    }

    /** IDLE -> READING: the first byte of its next request. */
    void reading(Connection c) {
        idle.remove(c);
        enter(c, reading, System.nanoTime());
    }

    /** READING -> BUSY: its request is complete, its response not yet. */
    void busy(Connection c) {
        c.queue.remove(c);
        c.phase = Connection.Phase.BUSY;
    }

    /** The exchange is over: IDLE, or READING when the next request has begun. */
    void answered(Connection c) {
        if (c.queue != null) {
            c.queue.remove(c);
        }
        long now = System.nanoTime();
        if (c.takeNextRequestStarted()) {
            enter(c, reading, now);
        } else {
            enter(c, idle, now);
        }
    }

    /** Its HTTP side could not be installed: never timed out, never evicted. */
    void untracked(Connection c) {
        if (c.queue != null) {
            c.queue.remove(c);
        }
        c.phase = Connection.Phase.BUSY;
        if (!warnedUntracked) {
            warnedUntracked = true;
            java.util.logging.Logger.getLogger(Connections.class.getName()).warning("http: cannot follow requests"
                    + " in this Vert.x version's pipeline; connections are neither timed out nor evicted");
        }
    }

    /** The socket closed (whoever closed it). */
    void gone(Connection c) {
        if (c.phase != Connection.Phase.CLOSED) {
            leave(c);
        }
    }

    private void enter(Connection c, Queue q, long now) {
        c.phase = q == idle ? Connection.Phase.IDLE : Connection.Phase.READING;
        c.since = now;
        q.add(c);
    }

    private void leave(Connection c) {
        if (c.queue != null) {
            c.queue.remove(c);
        }
        c.phase = Connection.Phase.CLOSED;
        active--;
    }

    private void close(Connection c, Reason reason) {
        closed[reason.ordinal()].increment();
        leave(c);
        c.closeNow();
    }

    /** Closes what timed out, and evicts down to the cap should it have shrunk (the rest holds more fds). */
    private void sweep() {
        long now = System.nanoTime();
        for (Queue q : readingQueues) {
            Connection c = q.first();
            while (c != null) { // in the order last heard from, not started: look at each
                Connection next = c.next;
                if (now - c.since >= headerTimeoutNanos) {
                    close(c, Reason.HEADER_TIMEOUT);
                }
                c = next;
            }
        }
        Connection c;
        while ((c = idle.first()) != null && now - c.since >= idleTimeoutNanos) {
            close(c, Reason.IDLE);
        }
        int cap = budget.cap();
        while (active > cap && (c = evictable(null)) != null) {
            close(c, Reason.EVICTED);
        }
    }

    /** Stops the sweep (the server is stopping; its loop closes the connections). */
    void stop() {
        ScheduledFuture<?> s = sweeper;
        if (s != null) {
            s.cancel(false);
        }
    }
}
