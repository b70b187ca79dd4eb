package io.cgscope.bench;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.Feature;

import java.util.EnumSet;
import java.util.Set;

/**
 * Benchmark (not a test): time to read the per-cgroup maps with 10k entries, batched
 * ({@code BPF_MAP_LOOKUP_BATCH}, 1024 per call) and summed over the CPUs into Java arrays, the
 * way each scrape reads them. Usage: {@code MapReadBench ENTRIES REPEATS}.
 */
public final class MapReadBench {
    private MapReadBench() {
    }

    public static void main(String[] args) throws Exception {
        int entries = Integer.parseInt(args[0]);
        int reps = Integer.parseInt(args[1]);
        measure("counters only (PERCPU_HASH, 24-byte value; bpfcost's percpu_hash has 8)", EnumSet.of(Feature.CPU),
                entries, reps);
        measure("both per-cgroup maps (24-byte counters, 184-byte histogram)", EnumSet.allOf(Feature.class), entries,
                reps);
    }

    private static void measure(String what, Set<Feature> features, int entries, int reps) throws Exception {
        try (BpfCompanion bpf = new BpfCompanion(features, 16384, 99)) {
            bpf.start();
            for (String map : Feature.mapsOf(features)) {
                long[] words = new long[BpfMaps.words(map)];
                for (int i = 0; i < entries; i++) {
                    words[0] = i;
                    bpf.put(map, (1L << 32) | (1000 + i * 3L), words); // cgroup-id-like keys
                }
            }
            for (int i = 0; i < 50; i++) {
                bpf.read(); // JIT warm-up
            }
            double[] us = new double[reps];
            int got = 0;
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                var c = bpf.read();
                us[r] = (System.nanoTime() - t0) / 1e3;
                got = c.tables().values().stream().mapToInt(t -> t.size()).sum();
            }
            System.out.printf("mapread %s entries=%d got=%d batched=%s us=%s (min/median/max)%n", what, entries, got,
                    bpf.batchedReads(), SwitchCostBench.summary(us));
        }
    }
}
