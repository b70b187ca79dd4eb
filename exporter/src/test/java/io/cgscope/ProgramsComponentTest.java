package io.cgscope;

import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.index.CgroupIndex;
import io.cgscope.metrics.CgroupCollector;
import io.prometheus.client.CollectorRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user metric whose prefixed name is one of cgscope's own families is refused at start with one
 * line and exit status 2 (the registry knows every family; the config parser knows only the user
 * programs' own), before any object is loaded.
 */
class ProgramsComponentTest {
    @Test
    void aNameThatCollidesWithABuiltInFamilyIsStatus2(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("x.yaml"), "metrics: {counters: [{name: cgroup_cpu_seconds_total, help: h}]}\n");
        Files.write(dir.resolve("x.bpf.o"), new byte[] {0x7f, 'E', 'L', 'F'});
        Config config = ((Flags.Run) Flags.parse("--config.dir=" + dir, "--config.names=x",
                "--config.metric-prefix=cgscope_")).config();
        CgroupIndex index = new CgroupIndex(Duration.ofMinutes(1));
        CollectorRegistry registry = new CollectorRegistry(true);
        new CgroupCollector(index, new BpfComponent(config).counters(), config,
                io.cgscope.workload.WorkloadResolver.of(config.runtimeDirs())).register(registry);
        ProgramsComponent c = new ProgramsComponent(config, index, new IndexComponent(config, index), registry);
        StartupException e = assertThrows(StartupException.class, c::start);
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().contains("cgscope_cgroup_cpu_seconds") && e.getMessage().contains("--config.metric-prefix"),
                e.getMessage());
    }
}
