package io.cgscope;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.BpfHierarchy;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.OomKills;
import io.cgscope.config.Config;

import java.util.EnumSet;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Loads and attaches the BPF programs chosen by {@code --bpf.programs}. A program that fails is
 * reported (log, {@code cgscope_bpf_program_up 0}) and the agent keeps running with the others:
 * the index and the HTTP API are useful without BPF, so this component never fails the start.
 */
public final class BpfComponent implements Component {
    private static final Logger LOG = Logger.getLogger(BpfComponent.class.getName());

    private final BpfCompanion companion;

    public BpfComponent(Config config) {
        this(config, BpfHierarchy.unified());
    }

    /** @param hierarchy whose cgroup of a task the counts go to (--cgroup.hierarchy) */
    public BpfComponent(Config config, BpfHierarchy hierarchy) {
        Set<Feature> wanted = EnumSet.noneOf(Feature.class);
        for (String p : config.bpfPrograms()) {
            if (!p.equals(OomKills.PROGRAM)) { // its own object: OomComponent
                wanted.add(Feature.of(p));
            }
        }
        this.companion = new BpfCompanion(wanted, config.maxCgroups(), config.sampleFrequency(), hierarchy);
    }

    @Override
    public String name() {
        return "bpf";
    }

    /** What the metrics read. */
    public CounterSource counters() {
        return companion;
    }

    public BpfCompanion companion() {
        return companion;
    }

    @Override
    public void start() {
        long t0 = System.nanoTime();
        Set<Feature> up = companion.start();
        StringBuilder sb = new StringBuilder("bpf: programs attached: ");
        sb.append(up.isEmpty() ? "none" : String.join(",", up.stream().map(Feature::label).toList()));
        companion.status().forEach((f, s) -> {
            if (!s.up()) {
                sb.append("; ").append(f.label()).append(" down");
            }
        });
        if (companion.hierarchy().kind() != 0) {
            sb.append("; counting by the cgroup in the v1 hierarchy ").append(companion.hierarchy().describe());
        }
        sb.append("; max ").append(companion.maxEntries()).append(" cgroups per map, sampling at ")
                .append(companion.sampleFrequency()).append(" Hz, in ")
                .append((System.nanoTime() - t0) / 1_000_000).append(" ms");
        LOG.info(sb.toString());
    }

    @Override
    public void stop() {
        companion.close();
    }
}
