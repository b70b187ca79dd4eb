package io.cgscope.bpf;

import io.cgscope.linux.EventFd;
import io.cgscope.linux.Poller;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Benchmark (not a test): the reader thread's CPU per lifecycle record, reading the ring two ways
 * under the same churn, alternately: {@code mmap} (cgscope's {@link BpfRing}: the ring parsed in
 * Java from its mapping) and {@code libbpf} ({@code ring_buffer__consume}, which calls a C
 * callback per record: here an FFM upcall into the same parser). Both loops batch like the index
 * reader (poll, drain, 1 ms pause while records keep coming) and parse every record into the same
 * counting sink, so what differs is the cost of getting at each record.
 *
 * <p>Usage: {@code RingReadBench CHURN_COMMAND SECONDS REPETITIONS [drain]}, e.g.
 * {@code RingReadBench "/tmp/ref/churn -p kbpf-bench.slice -m c -T 5" 5 3}: each repetition runs the
 * churn command once per way (the command must run about SECONDS). Prints one line per run and the
 * medians. With {@code drain}, the reader does not read while the churn runs: the ring fills (the
 * command must make fewer records than fit), then it is drained in one go, one way or the other,
 * timed: the cost of getting at each record alone, without the wake-ups of a following reader.
 * With {@code overhead}, the churn command runs alternately with nothing attached and with the
 * programs attached (and their ring drained by this thread): what the tracepoints cost the host's
 * mkdir and rmdir (the kernel formats each cgroup's path for them), as the churn reports it.
 */
public final class RingReadBench {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBBPF = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
    // struct ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn sample_cb, void *ctx,
    //                                      const struct ring_buffer_opts *opts);  <bpf/libbpf.h>
    private static final MethodHandle RB_NEW = LINKER.downcallHandle(LIBBPF.find("ring_buffer__new").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS));
    // int ring_buffer__consume(struct ring_buffer *rb);  <bpf/libbpf.h>
    private static final MethodHandle RB_CONSUME = LINKER.downcallHandle(
            LIBBPF.find("ring_buffer__consume").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    // void ring_buffer__free(struct ring_buffer *rb);  <bpf/libbpf.h>
    private static final MethodHandle RB_FREE = LINKER.downcallHandle(LIBBPF.find("ring_buffer__free").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    private static final LifecycleRecords PARSER = new LifecycleRecords();
    private static final Counting SINK = new Counting();

    /** What both ways do with a record: parse it, look at every field, copy nothing. */
    static final class Counting implements LifecycleRecords.Sink {
        long records;
        long checksum;

        @Override
        public void event(LifecycleEvent e) {
            records++;
            checksum += e.id() ^ e.parentId() ^ e.hierarchy() ^ e.level() ^ e.type();
        }

        @Override
        public void malformed(String why) {
            throw new IllegalStateException(why);
        }
    }

    /** The libbpf callback: {@code int (*)(void *ctx, void *data, size_t size)}. */
    static int sample(MemorySegment ctx, MemorySegment data, long size) {
        try {
            PARSER.parse(data.reinterpret(size), 0, (int) size, SINK);
        } catch (RuntimeException e) {
            return -1; // an upcall must never throw
        }
        return 0;
    }

    private RingReadBench() {
    }

    public static void main(String[] args) throws Throwable {
        String churn = args[0];
        int reps = Integer.parseInt(args[2]);
        if (args.length > 3 && args[3].equals("overhead")) {
            overhead(churn, reps);
            return;
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        MemorySegment callback = LINKER.upcallStub(MethodHandles.lookup().findStatic(RingReadBench.class, "sample",
                        MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class)),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG), Arena.global());
        List<Double> mmapUs = new ArrayList<>();
        List<Double> libbpfUs = new ArrayList<>();
        try (LifecycleProgram program = LifecycleProgram.start(LifecycleProgram.DEFAULT_RING_BYTES);
             EventFd wake = new EventFd(); Arena arena = Arena.ofConfined()) {
            MemorySegment rb = (MemorySegment) RB_NEW.invokeExact(program.ringFd().get(), callback, MemorySegment.NULL,
                    MemorySegment.NULL);
            if (rb.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("ring_buffer__new failed");
            }
            Poller poller = new Poller(arena, program.ringFd(), wake.fd());
            Poller pause = new Poller(arena, wake.fd());
            // Warm-up: both ways, a run each (JIT).
            for (int w = 0; w < 2; w++) {
                for (boolean viaLibbpf : new boolean[] {false, true}) {
                    run(churn, program, rb, poller, pause, viaLibbpf, threads);
                }
            }
            boolean drainOnly = args.length > 3 && args[3].equals("drain");
            for (int r = 0; r < reps; r++) {
                for (boolean viaLibbpf : new boolean[] {false, true}) {
                    double us = drainOnly ? drainFull(churn, program, rb, viaLibbpf, threads)
                            : run(churn, program, rb, poller, pause, viaLibbpf, threads);
                    (viaLibbpf ? libbpfUs : mmapUs).add(us);
                }
            }
            RB_FREE.invokeExact(rb);
            System.out.printf("ringread median reader_us_per_record mmap=%.3f libbpf=%.3f ratio_libbpf_over_mmap=%.2f"
                    + " lost=%d%n", median(mmapUs), median(libbpfUs), median(libbpfUs) / median(mmapUs),
                    program.lost());
        }
    }

    private static double run(String churn, LifecycleProgram program, MemorySegment rb, Poller poller, Poller pause,
                              boolean viaLibbpf, ThreadMXBean threads) throws Throwable {
        program.drain(SINK); // start empty
        AtomicBoolean done = new AtomicBoolean();
        Process p = new ProcessBuilder("sh", "-c", churn).redirectErrorStream(true).start();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                p.waitFor();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            done.set(true);
        });
        long records0 = SINK.records;
        long cpu0 = threads.getCurrentThreadCpuTime();
        boolean readNext = false;
        while (true) {
            boolean finished = done.get();
            int ready = readNext ? 1 : poller.await(100);
            readNext = false;
            if ((ready & 1) != 0) {
                long before = SINK.records;
                if (viaLibbpf) {
                    int rc = (int) RB_CONSUME.invokeExact(rb);
                    if (rc < 0) {
                        throw new IllegalStateException("ring_buffer__consume: " + rc);
                    }
                } else {
                    program.drain(SINK);
                }
                if (SINK.records > before) {
                    readNext = pause.await(1) == 0;
                }
            }
            if (finished && program.pendingBytes() == 0) {
                break;
            }
        }
        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
        long records = SINK.records - records0;
        waiter.join();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        double us = cpu / 1e3 / Math.max(1, records);
        System.out.printf("ringread way=%s records=%d reader_cpu_ms=%.1f reader_us_per_record=%.3f lost=%d churn: %s%n",
                viaLibbpf ? "libbpf" : "mmap", records, cpu / 1e6, us, program.lost(), out);
        return us;
    }

    /** Fills the ring with the churn's records, not reading, then drains it in one go. */
    private static double drainFull(String churn, LifecycleProgram program, MemorySegment rb, boolean viaLibbpf,
                                    ThreadMXBean threads) throws Throwable {
        program.drain(SINK);
        long lost0 = program.lost();
        Process p = new ProcessBuilder("sh", "-c", churn).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        long bytes = program.pendingBytes();
        long records0 = SINK.records;
        long cpu0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        if (viaLibbpf) {
            int rc = (int) RB_CONSUME.invokeExact(rb);
            if (rc < 0) {
                throw new IllegalStateException("ring_buffer__consume: " + rc);
            }
        } else {
            while (program.drain(SINK) > 0) {
                // what was committed when the drain began, then the rest
            }
        }
        long wall = System.nanoTime() - t0;
        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
        long records = SINK.records - records0;
        double us = cpu / 1e3 / Math.max(1, records);
        System.out.printf("ringread drain way=%s records=%d bytes=%d drain_ms=%.2f reader_us_per_record=%.3f"
                + " ns_per_record_wall=%.0f lost=%d churn: %s%n", viaLibbpf ? "libbpf" : "mmap", records, bytes,
                wall / 1e6, us, (double) wall / Math.max(1, records), program.lost() - lost0, out);
        return us;
    }

    /** The churn's own rate with nothing attached, then with the programs attached, REPETITIONS times. */
    private static void overhead(String churn, int reps) throws Throwable {
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            off.add(churnRate(churn, "off"));
            try (LifecycleProgram program = LifecycleProgram.start(LifecycleProgram.DEFAULT_RING_BYTES)) {
                AtomicBoolean done = new AtomicBoolean();
                Thread reader = Thread.ofPlatform().start(() -> {
                    while (!done.get()) {
                        if (program.drain(SINK) == 0) {
                            try {
                                Thread.sleep(1);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                });
                on.add(churnRate(churn, "on"));
                done.set(true);
                reader.join();
                if (program.lost() > 0) {
                    System.out.println("ringread overhead: " + program.lost() + " records lost");
                }
            }
        }
        System.out.printf("ringread overhead median cgroups_per_s off=%.0f on=%.0f ratio_on_over_off=%.3f%n",
                median(off), median(on), median(on) / median(off));
    }

    private static double churnRate(String churn, String label) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", churn).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("cgroups_per_s=(\\d+)").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no cgroups_per_s in: " + out);
        }
        System.out.println("ringread overhead programs=" + label + " churn: " + out);
        return Double.parseDouble(m.group(1));
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }
}
