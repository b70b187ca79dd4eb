package io.cgscope;

import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.metrics.CgroupCollector;
import io.prometheus.client.CollectorRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A user metric whose prefixed name is one of cgscope's own families is refused at start with one
 * line and exit status 2 (the registry knows every family; the config parser knows only the user
 * programs' own), before any object is loaded. The {@code cgroup} decoder names ids by the
 * hierarchy in use unless {@code --config.cgroup-hierarchy} names another; a name that is not
 * indexed is one line and status 2.
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

    @Test
    void theDecoderUsesTheUnifiedHierarchyTheOneNamedOrWithoutCgroup2TheOneInUse() throws Exception {
        HierarchyIndexes.Indexed unified = new HierarchyIndexes.Indexed(0, "unified", "/sys/fs/cgroup/unified",
                new CgroupIndex(Duration.ofMinutes(1)));
        HierarchyIndexes.Indexed memory = new HierarchyIndexes.Indexed(4, "memory", "/sys/fs/cgroup/memory",
                new CgroupIndex(Duration.ofMinutes(1)));
        HierarchyIndexes hierarchies = new HierarchyIndexes(List.of(unified, memory), memory, "test");
        // bpf_get_current_cgroup_id() gives cgroup2 ids, whichever hierarchy names the built-in metrics.
        assertSame(unified, ProgramsComponent.hierarchy(((Flags.Run) Flags.parse()).config(), hierarchies));
        assertSame(memory, ProgramsComponent.hierarchy(((Flags.Run) Flags.parse("--config.cgroup-hierarchy=memory"))
                .config(), hierarchies));
        HierarchyIndexes v1Only = new HierarchyIndexes(List.of(memory), memory, "test");
        assertSame(memory, ProgramsComponent.hierarchy(((Flags.Run) Flags.parse()).config(), v1Only));
        StartupException e = assertThrows(StartupException.class, () -> ProgramsComponent.hierarchy(
                ((Flags.Run) Flags.parse("--config.cgroup-hierarchy=cpu")).config(), hierarchies));
        assertEquals(2, e.exitCode());
        assertEquals("--config.cgroup-hierarchy=cpu: no such hierarchy is mounted (indexed: unified, memory)",
                e.getMessage());
    }
}
