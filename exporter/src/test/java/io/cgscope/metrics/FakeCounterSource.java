package io.cgscope.metrics;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** A hand-fed BPF side: the up features, and per map id -> words; deletes are recorded and applied. */
final class FakeCounterSource implements CounterSource {
    final Set<Feature> up = EnumSet.noneOf(Feature.class);
    final Map<String, Map<Long, long[]>> maps = new LinkedHashMap<>();
    final List<Long> deleted = new ArrayList<>();
    final Map<String, Long> failures = new LinkedHashMap<>();
    RuntimeException failReads;

    FakeCounterSource(Feature... up) {
        this.up.addAll(List.of(up));
        for (String map : Feature.mapsOf(this.up)) {
            maps.put(map, new TreeMap<>());
        }
    }

    /** Sets a counter feature's value for an id (its word in the id's counters entry). */
    FakeCounterSource set(Feature f, long id, long value) {
        maps.get(f.dataMap()).computeIfAbsent(id, k -> new long[BpfMaps.words(f.dataMap())])[f.firstWord()] = value;
        return this;
    }

    /** Sets an id's run-queue slots (slot -> count pairs) and sum. */
    FakeCounterSource runq(long id, long sumNs, long... slotCountPairs) {
        long[] v = new long[BpfMaps.RUNQ_WORDS];
        for (int i = 0; i < slotCountPairs.length; i += 2) {
            v[(int) slotCountPairs[i]] = slotCountPairs[i + 1];
        }
        v[BpfMaps.RUNQ_SLOTS] = sumNs;
        maps.get(BpfMaps.RUNQLAT).put(id, v);
        return this;
    }

    @Override
    public Map<Feature, Status> status() {
        Map<Feature, Status> s = new EnumMap<>(Feature.class);
        for (Feature f : up) {
            s.put(f, new Status(true, ""));
        }
        return s;
    }

    @Override
    public Counters read() {
        if (failReads != null) {
            throw failReads;
        }
        Map<String, MapTable> tables = new LinkedHashMap<>();
        maps.forEach((map, m) -> {
            MapTable t = new MapTable(BpfMaps.words(map));
            m.forEach(t::put);
            tables.put(map, t);
        });
        return new Counters(up, tables, failures);
    }

    /** Each read builds fresh tables, so a second reader may share {@link #read()}. */
    @Override
    public Reader newReader() {
        return this::read;
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
