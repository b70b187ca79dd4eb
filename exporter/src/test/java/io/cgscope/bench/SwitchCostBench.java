package io.cgscope.bench;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test): the kernel's cost of cgscope's programs per context switch, and the
 * end-to-end pipe ping-pong with and without them. Run by {@code exporter/bench/bpf-bench.sh}.
 *
 * <p>Usage: {@code SwitchCostBench PINGPONG_BINARY ROUNDTRIPS REPEATS [FEATURES]}
 */
public final class SwitchCostBench {
    /** The features attached: all, or the fourth argument ({@code cpu,switches}). */
    private static EnumSet<Feature> features = EnumSet.allOf(Feature.class);

    private SwitchCostBench() {
    }

    public static void main(String[] args) throws Exception {
        String pingpong = args[0];
        long n = Long.parseLong(args[1]);
        int reps = Integer.parseInt(args[2]);
        if (args.length > 3) {
            features = EnumSet.noneOf(Feature.class);
            for (String f : args[3].split(",")) {
                features.add(Feature.of(f));
            }
        }
        Path sysctl = Path.of("/proc/sys/kernel/bpf_stats_enabled");
        String old = Files.readString(sysctl).strip();
        try {
            Files.writeString(sysctl, "0");
            run(pingpong, n / 10); // warm-up
            double[] off = new double[reps];
            double[] on = new double[reps];
            double[] delta = new double[reps];
            for (int r = 0; r < reps; r++) {
                // alternate the order to spread drifts of a shared, noisy machine
                if (r % 2 == 0) {
                    off[r] = run(pingpong, n);
                    on[r] = withCgscope(() -> run(pingpong, n));
                } else {
                    on[r] = withCgscope(() -> run(pingpong, n));
                    off[r] = run(pingpong, n);
                }
                delta[r] = (on[r] - off[r]) / 2; // two switches per round trip
            }
            System.out.printf("pingpong roundtrips=%d repeats=%d ns_per_roundtrip off=%s on=%s%n", n, reps,
                    summary(off), summary(on));
            System.out.printf("pingpong paired_added_ns_per_switch=%s (min/median/max)%n", summary(delta));

            // Program self time: one run with the kernel's run-time stats on.
            BpfCompanion bpf = new BpfCompanion(features, 16384, 99);
            bpf.start();
            try {
                Files.writeString(sysctl, "1");
                Map<String, CounterSource.RunStats> before = stats(bpf);
                run(pingpong, n);
                Map<String, CounterSource.RunStats> after = stats(bpf);
                Files.writeString(sysctl, "0");
                long switches = after.get("on_switch").runCount() - before.get("on_switch").runCount();
                long totalNs = 0;
                for (String p : after.keySet()) {
                    long ns = after.get(p).runTimeNs() - before.get(p).runTimeNs();
                    long cnt = after.get(p).runCount() - before.get(p).runCount();
                    totalNs += ns;
                    System.out.printf("bpfstats prog=%s run_cnt=%d run_time_ns=%d avg_ns_per_run=%.1f%n", p, cnt, ns,
                            cnt == 0 ? 0.0 : (double) ns / cnt);
                }
                System.out.printf("bpfstats all_programs_ns_per_sched_switch=%.1f (sum of run_time_ns of every cgscope"
                        + " program / sched_switch count %d)%n", (double) totalNs / switches, switches);
            } finally {
                bpf.close();
            }
        } finally {
            Files.writeString(sysctl, old);
        }
    }

    private static Map<String, CounterSource.RunStats> stats(BpfCompanion bpf) {
        Map<String, CounterSource.RunStats> out = new LinkedHashMap<>();
        for (Feature.Prog p : Feature.programsOf(EnumSet.allOf(Feature.class))) {
            out.put(p.name(), bpf.programStats(p.name()));
        }
        return out;
    }

    interface Run {
        double get() throws Exception;
    }

    private static double withCgscope(Run r) throws Exception {
        try (BpfCompanion bpf = new BpfCompanion(features, 16384, 99)) {
            bpf.start();
            return r.get();
        }
    }

    /** Runs the ping-pong binary; returns ns per round trip. */
    static double run(String binary, long n) throws Exception {
        Process p = new ProcessBuilder(binary, Long.toString(n), "0").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("pingpong failed: " + out);
        }
        return Double.parseDouble(out.replaceAll(".*ns_per_roundtrip=([0-9.]+).*", "$1"));
    }

    static String summary(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format(java.util.Locale.ROOT, "%.1f/%.1f/%.1f", s[0], s[s.length / 2], s[s.length - 1]);
    }

    static List<Double> list(double[] v) {
        List<Double> out = new ArrayList<>();
        for (double d : v) {
            out.add(d);
        }
        return out;
    }
}
