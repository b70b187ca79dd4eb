package io.cgscope.bench;

import io.cgscope.accounting.CgroupFiles;
import io.cgscope.accounting.Family;
import io.cgscope.accounting.Hierarchy;
import io.cgscope.accounting.HierarchyReader;
import io.cgscope.linux.Fd;
import io.cgscope.linux.Libc;
import io.cgscope.metrics.CgroupFsCollector;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.testing.ControllerCgroups;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * For the benchmarks: N empty cgroups per family wherever this host has the family's files (the
 * test machine: pressure in cgroup2, cpu, memory, blkio and pids in their v1 hierarchies, the
 * memory ones inside this process's own memory cgroup), a {@link CgroupFsCollector} reading all of
 * them, and the plan for the C reference (cgroupfs-read.c) naming the same cgroups and files.
 * Creating v1 memory cgroups is slow here (about 24 ms each): 10,000 take minutes.
 */
final class AccountingCgroups implements AutoCloseable {
    private final List<ControllerCgroups> trees = new ArrayList<>();
    private final List<Fd> roots = new ArrayList<>();
    final CgroupFsCollector collector;
    private final StringBuilder plan = new StringBuilder();
    int cgroups;

    AccountingCgroups(int n, Set<Family> families) {
        // every collect() reads: the benchmark measures readings, not the reuse of one
        collector = new CgroupFsCollector(families, new CgroupLabels(0, null, null), Duration.ofMinutes(15),
                Duration.ZERO);
        try {
            for (Family f : families) {
                ControllerCgroups cg = ControllerCgroups.of(f == Family.PRESSURE ? ControllerCgroups.PRESSURE
                        : f.controller()).orElseThrow(() -> new IllegalStateException("no " + f.label() + " here"));
                trees.add(cg);
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    cg.create("bench-" + i + ".service");
                }
                cg.sync();
                System.out.printf("setup %s: %d cgroups in %.1f s%n", cg, n, (System.nanoTime() - t0) / 1e9);
                Fd root = Libc.open(cg.mount().toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
                roots.add(root);
                Hierarchy h = new Hierarchy(cg.toString(), cg.isV1() ? CgroupFiles.Version.V1 : CgroupFiles.Version.V2,
                        root, cg.index(), Set.of("cpu", "memory", "io", "blkio", "pids"));
                HierarchyReader reader = new HierarchyReader(h, EnumSet.of(f), collector::label);
                collector.add(reader, EnumSet.of(f));
                plan.append("hierarchy ").append(cg.mount()).append('\n');
                for (CgroupFiles.Spec s : reader.specs()) {
                    plan.append("file ").append(s.fileName()).append('\n');
                }
                cg.index().forEachLive(id -> {
                    byte[] path = cg.index().pathBytes(id);
                    plan.append("cgroup ").append(path.length == 0 ? "." : new String(path, StandardCharsets.UTF_8))
                            .append('\n');
                    cgroups++;
                });
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Writes the C reference's plan: the same hierarchies, files and cgroups. */
    Path writePlan(Path file) throws IOException {
        return Files.writeString(file, plan);
    }

    @Override
    public void close() {
        collector.closeReaders();
        for (Fd r : roots) {
            r.closeQuietly();
        }
        long t0 = System.nanoTime();
        for (ControllerCgroups cg : trees) {
            cg.close();
        }
        System.out.printf("cleanup: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
