package io.cgscope.top;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.CounterSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Reads the per-cgroup maps for the live page and keeps a few past reads, so a request gets
 * rates over a window of its choice (up to {@link #MAX_WINDOW}) without waiting that long.
 *
 * <p><b>A reader of its own, on demand.</b> It reads through {@link CounterSource#newReader()}:
 * tables of its own, reads serialized with the metrics' scrapes (a scrape waits for at most one
 * read in progress: about 3.5 ms at 10,000 cgroups), never overwriting the tables a scrape is
 * still summing. It reads only when asked and at most once per {@link #MIN_SPACING}, however
 * many pages are open, so with nobody looking it costs nothing. Sharing the scrapes' reads was
 * the other choice: Prometheus scrapes every 15 s or so, too seldom for a page that refreshes
 * every 2 s, and the scrape path would have had to hold its tables for the page while it sums
 * them; one more read a second while someone watches is simpler and cheap.
 *
 * <p><b>Bounded.</b> Reads are kept with gaps that grow with their age (a read is dropped when its
 * neighbours are no further apart than half its age): about a dozen cover a minute, 112 bytes per
 * cgroup in the maps each ({@link CounterSample}), so 1.3 MB per 1,000 cgroups while someone
 * watches. After {@link #IDLE} without a request they are all dropped.
 */
public final class TopSampler {
    /** Reads are at least this far apart; a request in between uses the newest one. */
    public static final Duration MIN_SPACING = Duration.ofSeconds(1);
    /** The longest window a request may ask for. */
    public static final Duration MAX_WINDOW = Duration.ofSeconds(60);
    /** Reads are forgotten when nobody asked for this long. */
    static final Duration IDLE = Duration.ofMinutes(2);

    private final CounterSource.Reader reader;
    private final LongSupplier nanoTime;
    /** Oldest first. */
    private final List<CounterSample> reads = new ArrayList<>();
    private long lastRequest;

    /** {@code source} null: no BPF, no rates. */
    public TopSampler(CounterSource source) {
        this(source == null ? null : source.newReader(), System::nanoTime);
    }

    /** Test seam: the reader and the clock. */
    TopSampler(CounterSource.Reader reader, LongSupplier nanoTime) {
        this.reader = reader;
        this.nanoTime = nanoTime;
    }

    /** Whether there are counters to sample at all. */
    public boolean enabled() {
        return reader != null;
    }

    /**
     * Rates over the window closest to {@code requested} that the kept reads allow (its actual
     * length is {@link Rates#seconds()}). Reads the maps first when the newest read is older than
     * {@link #MIN_SPACING}. Not {@link Rates#known()} when this is the first read: ask again after
     * {@link #untilNextRead()}.
     */
    public synchronized Rates rates(Duration requested) throws BpfException {
        if (reader == null) {
            return Rates.NONE;
        }
        long now = nanoTime.getAsLong();
        if (!reads.isEmpty() && now - lastRequest > IDLE.toNanos()) {
            reads.clear();
        }
        lastRequest = now;
        if (reads.isEmpty() || now - newest().nanos >= MIN_SPACING.toNanos()) {
            CounterSource.Counters read = reader.read();
            reads.add(CounterSample.of(read, nanoTime.getAsLong()));
            thin();
        }
        CounterSample newest = newest();
        CounterSample base = null;
        long want = requested.toNanos();
        for (int i = 0; i < reads.size() - 1; i++) {
            CounterSample s = reads.get(i);
            if (base == null || Math.abs(newest.nanos - s.nanos - want) < Math.abs(newest.nanos - base.nanos - want)) {
                base = s;
            }
        }
        return base == null ? new Rates(newest.up, 0, newest, null) : Rates.between(base, newest);
    }

    /** How long until the next read is due (zero when it is due now). */
    public synchronized Duration untilNextRead() {
        if (reads.isEmpty()) {
            return Duration.ZERO;
        }
        long left = MIN_SPACING.toNanos() - (nanoTime.getAsLong() - newest().nanos);
        return Duration.ofNanos(Math.max(0, left));
    }

    /** Reads kept now (tests). */
    synchronized int kept() {
        return reads.size();
    }

    private CounterSample newest() {
        return reads.getLast();
    }

    /** Drops reads no window needs: all but one beyond the longest window, and any too close to its neighbours for its age. */
    private void thin() {
        long newest = newest().nanos;
        while (reads.size() > 2 && newest - reads.get(1).nanos >= MAX_WINDOW.toNanos()) {
            reads.removeFirst();
        }
        for (int i = reads.size() - 2; i >= 1; i--) {
            long gap = reads.get(i + 1).nanos - reads.get(i - 1).nanos;
            long age = newest - reads.get(i).nanos;
            if (gap <= age / 2) {
                reads.remove(i);
            }
        }
    }
}
