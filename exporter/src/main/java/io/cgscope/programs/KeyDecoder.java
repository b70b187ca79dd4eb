package io.cgscope.programs;

import io.cgscope.config.ProgramConfig.DecoderSpec;
import io.cgscope.config.ProgramConfig.Label;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A metric's map key as its labels, as ebpf_exporter's README lays the key out: each label takes
 * {@code size} bytes, then {@code padding} bytes are skipped, and its decoders turn the bytes into
 * the value; the sizes must add up to the key's. A label whose chain has a {@code cgroup} decoder
 * is decoded up to the cgroup id here; the id is named at each scrape by cgscope's index
 * ({@link CgroupNamer}), and the decoders after it (a {@code regexp}, say) run on that name.
 *
 * <p>Two shapes are ebpf_exporter's special cases, kept: a metric without labels reads the map's
 * one key {@code u32 0}; a per-CPU map whose last label is {@code cpu} gets one series per CPU, the
 * CPU's number appended to the key as 2 bytes (so {@code cpu} is a 2-byte {@code uint}); when
 * {@code cpu} is the only label, the map's key (a {@code u32 0}) is dropped.
 */
final class KeyDecoder {
    /** One label: where it is in the key, its decoders before and after the cgroup decoder (if any). */
    private record Field(String name, int offset, int size, List<Decoder> before, boolean cgroup,
                         List<Decoder> after) {
    }

    /** A key decoded as far as it can be without the index. */
    static final class Decoded {
        /** The label values; null at a cgroup label's position. Shared between keys: never write it. */
        final String[] values;
        /** The cgroup ids, one per cgroup label, in label order. */
        final long[] ids;
        /** The label position of each cgroup id. */
        final int[] positions;
        /** Why it cannot be decoded (a decoder error), or null. */
        final String error;
        /** A regexp decoder matched nothing: the label set is dropped. */
        final boolean skip;

        Decoded(String[] values, long[] ids, int[] positions, String error, boolean skip) {
            this.values = values;
            this.ids = ids;
            this.positions = positions;
            this.error = error;
            this.skip = skip;
        }
    }

    private final List<Field> fields;
    private final int keySize;
    private final boolean noLabels;
    private final boolean cpuOnly;
    private final String[] names;
    private final int cgroupLabels;
    /** The decoders after a cgroup decoder, by name, per label position (most configs have none). */
    private final List<Map<String, Object>> afterCache;
    /** The label positions of the cgroup ids: the same for every key, so shared. */
    private final int[] positions;
    /**
     * Decoded label values, and whole arrays of them, kept once: many keys decode to the same
     * ones (a histogram's bucket keys, system call names), and each key keeps its values.
     */
    private final Map<String, String> strings = new HashMap<>();
    private final Map<List<String>, String[]> arrays = new HashMap<>();
    private static final int CANONICAL_MAX = 1 << 16;

    /**
     * @param labels    the labels that make up the key (a histogram's bucket label included)
     * @param splitCpus the map is per-CPU and the last label is {@code cpu}: keys come with the CPU appended
     */
    KeyDecoder(List<Label> labels, HostTables host, boolean splitCpus) {
        List<Field> fs = new ArrayList<>();
        int offset = 0;
        int cgroups = 0;
        for (Label l : labels) {
            List<Decoder> before = new ArrayList<>();
            List<Decoder> after = new ArrayList<>();
            boolean cgroup = false;
            for (DecoderSpec d : l.decoders()) {
                if (d.name().equals("cgroup")) {
                    cgroup = true;
                    cgroups++;
                } else {
                    (cgroup ? after : before).add(Decoders.of(d, host));
                }
            }
            fs.add(new Field(l.name(), offset, l.size(), List.copyOf(before), cgroup, List.copyOf(after)));
            offset += l.size() + l.padding();
        }
        this.fields = List.copyOf(fs);
        this.keySize = offset;
        this.noLabels = labels.isEmpty();
        this.cpuOnly = splitCpus && labels.size() == 1;
        this.names = labels.stream().map(Label::name).toArray(String[]::new);
        this.cgroupLabels = cgroups;
        List<Map<String, Object>> caches = new ArrayList<>();
        for (int i = 0; i < fs.size(); i++) {
            caches.add(new HashMap<>());
        }
        this.afterCache = caches;
        int[] pos = new int[cgroups];
        int c = 0;
        for (int i = 0; i < fs.size(); i++) {
            if (fs.get(i).cgroup()) {
                pos[c++] = i;
            }
        }
        this.positions = pos;
    }

    /** The key bytes the labels describe (sizes and paddings). */
    int keySize() {
        return keySize;
    }

    String[] names() {
        return names;
    }

    boolean hasCgroup() {
        return cgroupLabels > 0;
    }

    /** Decodes one key ({@code len} bytes of {@code key} from {@code off}). */
    Decoded decode(byte[] key, int off, int len) {
        if (noLabels) {
            boolean zero = len == 4 && key[off] == 0 && key[off + 1] == 0 && key[off + 2] == 0 && key[off + 3] == 0;
            return zero ? new Decoded(new String[0], new long[0], new int[0], null, false)
                    : error("a metric without labels reads the key u32 0; this key is " + len + " bytes: "
                    + hex(key, off, len));
        }
        if (cpuOnly && len == 6 && key[off] == 0 && key[off + 1] == 0 && key[off + 2] == 0 && key[off + 3] == 0) {
            off += 4;
            len -= 4;
        }
        if (len != keySize) {
            return error("the key is " + len + " bytes, the labels describe " + keySize + " (sizes and padding)");
        }
        String[] values = new String[fields.size()];
        long[] ids = new long[cgroupLabels];
        int c = 0;
        for (int i = 0; i < fields.size(); i++) {
            Field f = fields.get(i);
            byte[] in = Arrays.copyOfRange(key, off + f.offset(), off + f.offset() + f.size());
            try {
                for (Decoder d : f.before()) {
                    in = d.decode(in);
                }
                if (f.cgroup()) {
                    ids[c++] = Decoders.decimal(in, "cgroup");
                } else {
                    values[i] = canonical(Decoders.text(in));
                }
            } catch (Decoder.DecodeException e) {
                return error("label " + f.name() + ": " + e.getMessage());
            } catch (Decoder.Skip e) {
                return new Decoded(null, null, null, null, true);
            }
        }
        return new Decoded(canonical(values), ids, positions, null, false);
    }

    private String canonical(String v) {
        String known = strings.get(v);
        if (known != null) {
            return known;
        }
        if (strings.size() < CANONICAL_MAX) {
            strings.put(v, v);
        }
        return v;
    }

    /** One array per distinct list of values (never written: a key's values are copied before use). */
    private String[] canonical(String[] values) {
        List<String> k = Arrays.asList(values);
        String[] known = arrays.get(k);
        if (known != null) {
            return known;
        }
        if (arrays.size() < CANONICAL_MAX) {
            arrays.put(k, values);
        }
        return values;
    }

    /**
     * The value of the cgroup label at {@code position} for the index's name {@code name}: the
     * decoders after the cgroup decoder applied (remembered per name).
     *
     * @return the value, or null when a regexp skips it
     * @throws Decoder.DecodeException when a decoder after it fails
     */
    String afterCgroup(int position, String name) throws Decoder.DecodeException {
        Field f = fields.get(position);
        if (f.after().isEmpty()) {
            return name;
        }
        Map<String, Object> cache = afterCache.get(position);
        Object cached = cache.get(name);
        if (cached == null) {
            byte[] in = Decoders.ascii(name);
            try {
                for (Decoder d : f.after()) {
                    in = d.decode(in);
                }
                cached = Decoders.text(in);
            } catch (Decoder.Skip e) {
                cached = Boolean.FALSE;
            } catch (Decoder.DecodeException e) {
                cached = e;
            }
            if (cache.size() > 100_000) {
                cache.clear(); // names of cgroups long gone: start over rather than grow without bound
            }
            cache.put(name, cached);
        }
        if (cached instanceof Decoder.DecodeException e) {
            throw e;
        }
        return cached instanceof String s ? s : null;
    }

    private static Decoded error(String why) {
        return new Decoded(null, null, null, why, false);
    }

    private static String hex(byte[] b, int off, int len) {
        return java.util.HexFormat.of().formatHex(b, off, off + len);
    }
}
