package io.cgscope;

import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
import io.cgscope.programs.UserPrograms;
import io.prometheus.client.CollectorRegistry;

import java.util.logging.Logger;

/**
 * Loads and attaches the users' own programs ({@code --config.dir}, {@code --config.names}),
 * after cgscope's own ({@link BpfComponent}) and while still privileged, and registers their
 * metrics. A config or program that fails is logged and exported as down, and the agent runs on;
 * only a metric name that collides with another collector's fails the start (exit status 2).
 */
public final class ProgramsComponent implements Component {
    private static final Logger LOG = Logger.getLogger(ProgramsComponent.class.getName());

    private final Config config;
    private final IndexComponent index;
    private final CollectorRegistry registry;
    private final UserPrograms programs;

    public ProgramsComponent(Config config, CgroupIndex cgroups, IndexComponent index, CollectorRegistry registry) {
        this.config = config;
        this.index = index;
        this.registry = registry;
        this.programs = new UserPrograms(config, cgroups);
    }

    @Override
    public String name() {
        return "programs";
    }

    public UserPrograms programs() {
        return programs;
    }

    @Override
    public void start() throws StartupException {
        if (!programs.any()) {
            return;
        }
        try {
            registry.register(programs);
        } catch (IllegalArgumentException e) {
            throw new StartupException("--config.names: " + e.getMessage() + " (change --config.metric-prefix="
                    + config.metricPrefix() + " or the metric's name)", 2, e);
        }
        long t0 = System.nanoTime();
        String summary = programs.start(index.mountPoint());
        LOG.info(summary + ", in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @Override
    public void stop() {
        programs.close();
    }
}
