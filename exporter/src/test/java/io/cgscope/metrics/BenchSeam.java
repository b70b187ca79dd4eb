package io.cgscope.metrics;

import io.cgscope.bpf.CounterSource;
import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;

/** For the benchmarks ({@code io.cgscope.bench}): collectors the public API does not build. */
public final class BenchSeam {
    private BenchSeam() {
    }

    /**
     * The collector as it was before workloads were named: the {@code cgroup} label alone, no
     * classification, no bundles, no {@code cgscope_cgroup_info}: the reference of ScrapeBench.
     */
    public static CgroupCollector withoutWorkloads(CgroupIndex index, CounterSource source, Config config) {
        return new CgroupCollector(index, source, new CgroupLabels(config.maxDepth(), config.include(), config.exclude()),
                RunqBuckets.of(config.runqlatBuckets()), config.retention(), System::nanoTime);
    }
}
