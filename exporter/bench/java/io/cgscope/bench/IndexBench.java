package io.cgscope.bench;

import io.cgscope.Agent;
import io.cgscope.BuildInfo;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.Sweeper;
import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.fanotify.ReaderHooks;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.Source;
import io.cgscope.log.Logging;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;

/**
 * Index micro-benchmarks run by exporter/bench/index.sh (not part of the test suite).
 * Compiled with javac against exporter/target/cgscope.jar; one fresh JVM per invocation.
 *
 * <pre>
 * IndexBench sweep REPEATS   sweep the real cgroup tree REPEATS times with cgscope's Sweeper:
 *                            "sweep" = Sweeper into a list of (id, parent, name) (what sweep.c -m gd does:
 *                            walk + a map entry per cgroup); "resync" = sweep + reconcile into a fresh
 *                            CgroupIndex (what cgscope's start-up does). Prints cold (1st) and each run.
 * IndexBench heap N [dead]   fill a CgroupIndex with N realistic entries (3-4 deep systemd-like names)
 *                            through the event path (created()), full GC, print used heap before/after
 *                            and bytes per cgroup, plus the top of the class histogram. With "dead",
 *                            every leaf (3 in 4 of them) is then removed (deleted()), so the heap per
 *                            cgroup is that of a mix of retained dead and live ones.
 * IndexBench serve FLAGS...  the whole agent, as {@code java -jar cgscope.jar FLAGS...} runs it, plus
 *                            commands on stdin for the paired CPU benchmark: "pause" holds the
 *                            fanotify reader and closes its group (the mark goes with it: the kernel
 *                            queues nothing for cgscope while the C reader is measured alone);
 *                            "resume" lets the reader go on, and it finds its fd closed, places a new
 *                            mark and re-syncs (the lost-fd path of the agent); "quit" stops. Each
 *                            command is acknowledged on stdout ("paused", "resumed").
 * </pre>
 */
public final class IndexBench {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "sweep" -> sweep(Integer.parseInt(args[1]));
            case "heap" -> heap(Integer.parseInt(args[1]), args.length > 2 && args[2].equals("dead"));
            case "serve" -> serve(Arrays.copyOfRange(args, 1, args.length));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void serve(String[] flags) throws Exception {
        Config config = ((Flags.Run) Flags.parse(flags)).config();
        Logging.configure(config.logLevel(), config.logFormat());
        Agent agent = new Agent(config, BuildInfo.load());
        agent.start();
        CgroupWatcher watcher = agent.indexComponent().watcher();
        if (watcher == null) {
            agent.stop();
            throw new IllegalStateException("serve: the index is not in fanotify mode, nothing to pause");
        }
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        CountDownLatch release = null;
        for (String line; (line = commands.readLine()) != null && !line.equals("quit"); ) {
            if (line.equals("pause") && release == null) {
                release = new CountDownLatch(1);
                hold(watcher, release);
                watcher.fd().close();
                System.out.println("paused");
            } else if (line.equals("resume") && release != null) {
                release.countDown();
                release = null;
                System.out.println("resumed");
            } else {
                System.out.println("unknown or out of order: " + line);
            }
        }
        if (release != null) {
            release.countDown();
        }
        agent.stop();
    }

    /** Holds the reader at its next turn until {@code release} counts down; returns once it is held. */
    private static void hold(CgroupWatcher watcher, CountDownLatch release) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        watcher.hooks(new ReaderHooks() {
            @Override
            public void turn() {
                if (held.getCount() > 0) {
                    held.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        });
        held.await();
    }

    private static void sweep(int repeats) throws Exception {
        try (CgroupFs fs = CgroupFs.open(null); Arena arena = Arena.ofConfined()) {
            Sweeper sweeper = new Sweeper(fs, arena);
            // Alternate the two kinds so both get a cold first run in this JVM: sweep first (pure walk).
            for (int i = 0; i < repeats; i++) {
                long cpu0 = threadCpu();
                long t0 = System.nanoTime();
                List<CgroupIndex.Discovered> tree = new ArrayList<>();
                int n = sweeper.sweep((id, parent, name) -> tree.add(new CgroupIndex.Discovered(id, parent, name)));
                long t1 = System.nanoTime();
                long cpu1 = threadCpu();
                CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
                index.root(fs.rootId());
                index.reconcile(tree, Source.SWEEP, false);
                long t2 = System.nanoTime();
                long cpu2 = threadCpu();
                System.out.printf("indexbench sweep run=%d cgroups=%d sweep_ms=%.2f sweep_cpu_ms=%.2f resync_ms=%.2f resync_cpu_ms=%.2f%n",
                        i, n, (t1 - t0) / 1e6, (cpu1 - cpu0) / 1e6, (t2 - t0) / 1e6, (cpu2 - cpu0) / 1e6);
            }
        }
    }

    private static long threadCpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    private static void heap(int n, boolean killLeaves) throws Exception {
        CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
        index.root(1);
        long before = usedAfterGc();
        long histoBefore = histogramTotal(histogram());
        Random rnd = new Random(42);
        long nextId = 2;
        // A systemd-like tree: user.slice/user-UID.slice/session-N.scope, system.slice/UNIT-HASH.service,
        // kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUUID.slice/cri-containerd-HEX.scope.
        long userSlice = nextId++, systemSlice = nextId++, kubepods = nextId++, burstable = nextId++;
        index.created(userSlice, 1, b("user.slice"), Source.EVENT);
        index.created(systemSlice, 1, b("system.slice"), Source.EVENT);
        index.created(kubepods, 1, b("kubepods.slice"), Source.EVENT);
        index.created(burstable, kubepods, b("kubepods-burstable.slice"), Source.EVENT);
        int count = 4;
        long lastUser = 0, lastPod = 0;
        long[] leaves = new long[n];
        long[] leafParents = new long[n];
        int leafCount = 0;
        String[] units = {"nginx", "postgresql", "sshd", "cron", "containerd", "kubelet", "docker", "redis"};
        while (count < n) {
            long id = nextId;
            nextId += 19; // 19 kernfs ids per bare cgroup, as here
            switch (count % 4) {
                case 0 -> { // user-UID.slice
                    index.created(id, userSlice, b("user-" + (1000 + count / 4) + ".slice"), Source.EVENT);
                    lastUser = id;
                }
                case 1 -> {
                    index.created(id, lastUser, b("session-" + count / 4 + ".scope"), Source.EVENT);
                    leaves[leafCount] = id;
                    leafParents[leafCount++] = lastUser;
                }
                case 2 -> {
                    index.created(id, systemSlice,
                            b(units[rnd.nextInt(units.length)] + "-" + Integer.toHexString(rnd.nextInt()) + ".service"),
                            Source.EVENT);
                    leaves[leafCount] = id;
                    leafParents[leafCount++] = systemSlice;
                }
                default -> {
                    if ((count / 4) % 2 == 0) {
                        lastPod = id;
                        index.created(id, burstable, b("kubepods-burstable-pod" + uuid(rnd).replace('-', '_') + ".slice"),
                                Source.EVENT);
                    } else {
                        index.created(id, lastPod, b("cri-containerd-" + hex(rnd, 32) + ".scope"), Source.EVENT);
                        leaves[leafCount] = id;
                        leafParents[leafCount++] = lastPod;
                    }
                }
            }
            count++;
        }
        if (killLeaves) {
            for (int i = 0; i < leafCount; i++) {
                index.deleted(leaves[i], leafParents[i], null, Source.EVENT);
            }
        }
        index.flush();
        long after = usedAfterGc();
        String histo = histogram();
        long histoAfter = histogramTotal(histo);
        // The class histogram counts live objects exactly; used heap is page-granular with ZGC (2 MB pages).
        System.out.printf("indexbench heap cgroups=%d size=%d dead=%d used_before=%d used_after=%d used_bytes_per_cgroup=%.1f"
                        + " histo_before=%d histo_after=%d histo_bytes_per_cgroup=%.1f gc=%s%n",
                count, index.size(), index.deadCount(), before, after, (after - before) / (double) count, histoBefore, histoAfter,
                (histoAfter - histoBefore) / (double) count, gcName());
        // keep the index reachable until after the measurement
        if (index.pathOf(userSlice) == null) {
            throw new AssertionError();
        }
        String[] lines = histo.split("\n");
        for (int i = 0; i < Math.min(18, lines.length); i++) {
            System.out.println("histo " + lines[i]);
        }
    }

    private static String gcName() {
        return ManagementFactory.getGarbageCollectorMXBeans().getFirst().getName().replace(' ', '_');
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String uuid(Random r) {
        return hex(r, 8) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 4) + "-" + hex(r, 12);
    }

    private static String hex(Random r, int digits) {
        char[] c = new char[digits];
        for (int i = 0; i < digits; i++) {
            c[i] = Character.forDigit(r.nextInt(16), 16);
        }
        return new String(c);
    }

    private static long usedAfterGc() throws InterruptedException {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(200);
            best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    private static long histogramTotal(String histo) {
        for (String line : histo.split("\n")) {
            String t = line.trim();
            if (t.startsWith("Total")) {
                String[] f = t.split("\\s+");
                return Long.parseLong(f[2]);
            }
        }
        throw new IllegalStateException("no Total in the class histogram");
    }

    private static String histogram() throws Exception {
        var server = ManagementFactory.getPlatformMBeanServer();
        var name = new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand");
        return (String) server.invoke(name, "gcClassHistogram", new Object[] {new String[0]},
                new String[] {String[].class.getName()});
    }

    @SuppressWarnings("unused")
    private static String join(String[] a) {
        return Arrays.toString(a);
    }
}
