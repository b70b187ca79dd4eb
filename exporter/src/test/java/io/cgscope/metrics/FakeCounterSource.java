package io.cgscope.metrics;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A hand-fed BPF side: per feature, id -> words; deletes are recorded and applied. */
final class FakeCounterSource implements CounterSource {
    final Map<Feature, Map<Long, long[]>> maps = new EnumMap<>(Feature.class);
    final List<Long> deleted = new ArrayList<>();
    final Map<String, Long> failures = new LinkedHashMap<>();
    RuntimeException failReads;

    FakeCounterSource(Feature... up) {
        for (Feature f : up) {
            maps.put(f, new TreeMap<>());
        }
    }

    /** Sets a counter feature's value for an id. */
    FakeCounterSource set(Feature f, long id, long value) {
        maps.get(f).put(id, new long[] {value});
        return this;
    }

    /** Sets an id's run-queue slots (slot -> count pairs) and sum. */
    FakeCounterSource runq(long id, long sumNs, long... slotCountPairs) {
        long[] v = new long[BpfMaps.RUNQ_WORDS];
        for (int i = 0; i < slotCountPairs.length; i += 2) {
            v[(int) slotCountPairs[i]] = slotCountPairs[i + 1];
        }
        v[BpfMaps.RUNQ_SLOTS] = sumNs;
        maps.get(Feature.RUNQLAT).put(id, v);
        return this;
    }

    @Override
    public Map<Feature, Status> status() {
        Map<Feature, Status> s = new EnumMap<>(Feature.class);
        for (Feature f : maps.keySet()) {
            s.put(f, new Status(true, ""));
        }
        return s;
    }

    @Override
    public Counters read() {
        if (failReads != null) {
            throw failReads;
        }
        Map<Feature, MapTable> tables = new EnumMap<>(Feature.class);
        maps.forEach((f, m) -> {
            MapTable t = new MapTable(BpfMaps.words(f.dataMap()));
            m.forEach(t::put);
            tables.put(f, t);
        });
        return new Counters(tables, failures);
    }

    @Override
    public void delete(long cgroupId) throws BpfException {
        deleted.add(cgroupId);
        for (Map<Long, long[]> m : maps.values()) {
            m.remove(cgroupId);
        }
    }

    @Override
    public Map<String, RunStats> runStats() {
        return Map.of();
    }

    @Override
    public int maxEntries() {
        return 16384;
    }
}
