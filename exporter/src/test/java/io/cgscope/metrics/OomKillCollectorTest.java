package io.cgscope.metrics;

import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import io.cgscope.bpf.OomKillCounts;
import io.cgscope.bpf.ProgramReport;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.prometheus.client.Collector;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.cgscope.metrics.MetricsText.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OOM kills by cgroup over a hand-fed map and index: removal, retention, the same path again, down. */
class OomKillCollectorTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final String KILLS = "cgscope_cgroup_oom_kills_total";

    /** The oom_kills map, by hand. */
    static final class FakeCounts implements OomKillCounts, ProgramReport {
        final Map<Long, Long> kills = new TreeMap<>();
        final List<Long> deleted = new ArrayList<>();
        boolean up = true;

        @Override
        public boolean up() {
            return up;
        }

        @Override
        public MapTable read() {
            MapTable t = new MapTable(1);
            kills.forEach(t::put);
            return t;
        }

        @Override
        public void delete(long cgroupId) {
            deleted.add(cgroupId);
            kills.remove(cgroupId);
        }

        @Override
        public long lostRecords() {
            return 3;
        }

        @Override
        public Map<String, CounterSource.Status> programs() {
            return Map.of("oom", new CounterSource.Status(up, up ? "" : "load: no"));
        }

        @Override
        public Map<String, Long> updateFailures() {
            return Map.of("oom_kills", 2L);
        }
    }

    private final FakeTicker ticker = new FakeTicker();
    private final CgroupIndex index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
    private final FakeCounts counts = new FakeCounts();
    private final OomKillCollector collector = new OomKillCollector(index, counts, new CgroupLabels(0, null, null),
            RETENTION, System::nanoTime);

    OomKillCollectorTest() {
        index.root(1);
    }

    private void mkdir(long id, String name) {
        index.created(id, 1, name.getBytes(StandardCharsets.UTF_8), Source.EVENT);
    }

    private void rmdir(long id, String name) {
        index.deleted(id, 1, name.getBytes(StandardCharsets.UTF_8), Source.EVENT);
    }

    @Test
    void aKillOutlivesItsCgroupAndTheSamePathCountsOn() {
        mkdir(10, "job.service");
        counts.kills.put(10L, 1L);
        rmdir(10, "job.service"); // removed right after the kill
        assertEquals(1.0, value(collector.collect(), KILLS, "cgroup", "job.service"));
        mkdir(12, "job.service");
        assertEquals(1.0, value(collector.collect(), KILLS, "cgroup", "job.service"), "the new cgroup has none yet");
        counts.kills.put(12L, 1L);
        assertEquals(2.0, value(collector.collect(), KILLS, "cgroup", "job.service"));
        ticker.advance(RETENTION.plusSeconds(1));
        index.maintain();
        List<Collector.MetricFamilySamples> m = collector.collect();
        assertEquals(2.0, value(m, KILLS, "cgroup", "job.service"), "the first folded: the count stays");
        assertEquals(List.of(10L), counts.deleted, "and its map entry is deleted");
        assertEquals(3.0, value(m, "cgscope_bpf_oom_records_lost_total"));
    }

    @Test
    void downMeansAbsent() {
        counts.up = false;
        counts.kills.put(1L, 1L);
        assertTrue(collector.collect().isEmpty());
    }

    @Test
    void theCompanionsFamiliesReportTheProgram() {
        CgroupCollector bpf = new CgroupCollector(index, new FakeCounterSource(Feature.CPU), new CgroupLabels(0, null,
                null), RunqBuckets.of("pow4"), RETENTION, System::nanoTime);
        bpf.report(counts);
        List<Collector.MetricFamilySamples> m = bpf.collect();
        assertEquals(1.0, value(m, "cgscope_bpf_program_up", "program", "oom"));
        assertEquals(1.0, value(m, "cgscope_bpf_program_up", "program", "cpu"));
        assertEquals(2.0, value(m, "cgscope_bpf_map_update_failures_total", "map", "oom_kills"));
        counts.up = false;
        assertEquals(0.0, value(bpf.collect(), "cgscope_bpf_program_up", "program", "oom"));
        assertNull(value(bpf.collect(), "cgscope_bpf_program_up", "program", "runqlat"), "not selected: absent");
    }
}
