package io.cgscope.bench;

import io.cgscope.accounting.Family;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark (not a test): the cgroupfs collectors' cost against the C reference in the same run.
 * N empty cgroups per family ({@link AccountingCgroups}); in each round the C reference
 * ({@code cgroupfs-read}) reads the same files of the same cgroups PASSES times, then
 * {@code CgroupFsCollector.collect()} runs PASSES times (reading, parsing, naming, folding, the
 * samples). CPU is the whole process's (user + system, JIT and GC threads included) per pass, and
 * the scraping thread's alone. Prints each round's medians and ratios, then the share of one core
 * a scrape every 15 s would take. Usage:
 * {@code CgroupFsBench REFERENCE N PASSES ROUNDS [pressure,cpu,memory,io,pids]}.
 *
 * <p>{@code CgroupFsBench scrape N REPEATS [families]}: a whole scrape of these families (the
 * registry's collect and text 0.0.4) against simpleclient's {@code TextFormat} writing the same
 * samples already built, in each repetition.
 */
public final class CgroupFsBench {
    private static final Pattern REFERENCE = Pattern.compile("wall_ms_median=([0-9.]+) cpu_ms_median=([0-9.]+)");

    private CgroupFsBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("scrape")) {
            scrape(Integer.parseInt(args[1]), Integer.parseInt(args[2]), families(args.length > 3 ? args[3] : null));
            return;
        }
        String reference = args[0];
        int n = Integer.parseInt(args[1]);
        int passes = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        Set<Family> families = families(args.length > 4 ? args[4] : null);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (AccountingCgroups cg = new AccountingCgroups(n, families)) {
            Path plan = cg.writePlan(Files.createTempFile("cgscope-cgroupfs-plan", ".txt"));
            System.out.printf("cgroups=%d (N=%d per family, %s; with their ancestors) files per cgroup: see the plan %s%n",
                    cg.cgroups, n, families, plan);
            int samples = 0;
            for (int i = 0; i < 20; i++) { // the first names every cgroup; the rest warm the JIT up
                samples = cg.collector.collect().stream().mapToInt(f -> f.samples.size()).sum();
            }
            System.out.println("samples per scrape: " + samples);
            List<Double> cpuRatios = new ArrayList<>();
            List<Double> wallRatios = new ArrayList<>();
            double javaCpuAll = 0;
            int javaPasses = 0;
            for (int r = 1; r <= rounds; r++) {
                Process c = new ProcessBuilder(reference, plan.toString(), Integer.toString(passes))
                        .redirectErrorStream(true).start();
                String out = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (c.waitFor() != 0) {
                    throw new IllegalStateException("the reference failed: " + out);
                }
                Matcher m = REFERENCE.matcher(out);
                if (!m.find()) {
                    throw new IllegalStateException("no summary from the reference: " + out);
                }
                double cWall = Double.parseDouble(m.group(1));
                double cCpu = Double.parseDouble(m.group(2));
                double[] wall = new double[passes];
                double[] cpu = new double[passes];
                double[] thread = new double[passes];
                for (int p = 0; p < passes; p++) {
                    long w0 = System.nanoTime();
                    long c0 = os.getProcessCpuTime();
                    long t0 = threads.getCurrentThreadCpuTime();
                    cg.collector.collect();
                    thread[p] = (threads.getCurrentThreadCpuTime() - t0) / 1e6;
                    cpu[p] = (os.getProcessCpuTime() - c0) / 1e6;
                    wall[p] = (System.nanoTime() - w0) / 1e6;
                    javaCpuAll += cpu[p];
                    javaPasses++;
                }
                double jCpu = median(cpu);
                double jWall = median(wall);
                cpuRatios.add(jCpu / cCpu);
                wallRatios.add(jWall / cWall);
                System.out.printf(Locale.ROOT, "round %d: reference wall %.1f ms cpu %.1f ms; cgscope wall %.1f ms cpu %.1f ms"
                                + " (scraping thread %.1f ms); ratio cpu %.2fx wall %.2fx (medians of %d passes)%n", r, cWall,
                        cCpu, jWall, jCpu, median(thread), jCpu / cCpu, jWall / cWall, passes);
            }
            double perScrape = javaCpuAll / javaPasses;
            System.out.printf(Locale.ROOT, "cgroupfs collect vs C reference: cpu ratio %s, wall ratio %s (min/median/max of"
                    + " %d rounds)%n", summary(cpuRatios), summary(wallRatios), rounds);
            System.out.printf(Locale.ROOT, "a scrape every 15 s: %.1f ms of CPU each = %.2f%% of one core for %d cgroups%n",
                    perScrape, perScrape / 15_000 * 100, cg.cgroups);
        }
    }

    private static Set<Family> families(String list) {
        Set<Family> families = EnumSet.noneOf(Family.class);
        for (String f : (list == null ? "pressure,cpu,memory,io,pids" : list).split(",")) {
            families.add(Family.of(f.strip()));
        }
        return families;
    }

    private static void scrape(int n, int reps, Set<Family> families) throws Exception {
        try (AccountingCgroups cg = new AccountingCgroups(n, families)) {
            io.prometheus.client.CollectorRegistry registry = new io.prometheus.client.CollectorRegistry();
            cg.collector.register(registry);
            for (int i = 0; i < 20; i++) {
                io.prometheus.client.exporter.common.TextFormat.write004(new ScrapeBench.CountingWriter(),
                        registry.metricFamilySamples()); // names every cgroup, warms up
            }
            List<io.prometheus.client.Collector.MetricFamilySamples> built =
                    java.util.Collections.list(registry.metricFamilySamples());
            long samples = built.stream().mapToLong(f -> f.samples.size()).sum();
            double[] whole = new double[reps];
            double[] bare = new double[reps];
            double[] ratio = new double[reps];
            long bytes = 0;
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                ScrapeBench.CountingWriter w = new ScrapeBench.CountingWriter();
                io.prometheus.client.exporter.common.TextFormat.write004(w, registry.metricFamilySamples());
                whole[r] = (System.nanoTime() - t0) / 1e6;
                bytes = w.chars;
                long t1 = System.nanoTime();
                io.prometheus.client.exporter.common.TextFormat.write004(new ScrapeBench.CountingWriter(),
                        java.util.Collections.enumeration(built));
                bare[r] = (System.nanoTime() - t1) / 1e6;
                ratio[r] = whole[r] / bare[r];
            }
            System.out.printf(Locale.ROOT, "cgroupfs scrape cgroups=%d samples=%d bytes=%d (%s)%n", cg.cgroups, samples,
                    bytes, families);
            System.out.printf(Locale.ROOT, "cgroupfs scrape whole_ms=%s bare_serializer_ms=%s ratio=%s (min/median/max)%n",
                    SwitchCostBench.summary(whole), SwitchCostBench.summary(bare), SwitchCostBench.summary(ratio));
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String summary(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return String.format(Locale.ROOT, "%.2f/%.2f/%.2f", a[0], a[a.length / 2], a[a.length - 1]);
    }
}
