package io.cgscope.programs;

import io.cgscope.config.ProgramConfig.BucketType;
import io.cgscope.config.ProgramConfig.Histogram;

import java.util.List;

/**
 * A histogram's bucket keys, as ebpf_exporter's README defines them: the kernel counts into a map
 * whose last key field is the bucket key; here each key gets a slot and its {@code le}:
 * <ul>
 *   <li>{@code exp2}: keys {@code bucket_min..bucket_max}, {@code le = 2^key x bucket_multiplier};</li>
 *   <li>{@code exp2zero}: the same, but key 0 is {@code le = 0} and key k is {@code 2^(k-1) x multiplier};</li>
 *   <li>{@code linear}: {@code le = key x multiplier};</li>
 *   <li>{@code fixed}: keys {@code bucket_keys}, {@code le = key x multiplier}.</li>
 * </ul>
 * {@code bucket_max} is included (the README's pseudo-code says {@code i < bucket_max}, but the
 * BPF side clamps large values into {@code bucket_max}, and ebpf_exporter's code includes it). The
 * key after the last ({@code bucket_max + 1}, or the last fixed key + 1) holds the sum of the
 * observed values when the program writes it; {@code _sum} is that times the multiplier. Keys
 * outside these are ignored. Immutable.
 */
final class Buckets {
    private final Histogram spec;
    /** {@code le} of each slot, as Go writes it; the sum's slot (the last) has none. */
    private final List<String> le;

    Buckets(Histogram spec) {
        this.spec = spec;
        int n = spec.type() == BucketType.FIXED ? spec.keys().size() : (int) (spec.max() - spec.min() + 1);
        String[] les = new String[n];
        for (int i = 0; i < n; i++) {
            les[i] = GoFloat.format(upperBound(i));
        }
        this.le = List.of(les);
    }

    /** Slots: one per bucket, then the sum's. */
    int slots() {
        return le.size() + 1;
    }

    /** Buckets (without the sum's slot). */
    int buckets() {
        return le.size();
    }

    int sumSlot() {
        return le.size();
    }

    String le(int slot) {
        return le.get(slot);
    }

    double multiplier() {
        return spec.multiplier();
    }

    /** The upper bound of bucket {@code slot}. */
    double upperBound(int slot) {
        double m = spec.multiplier();
        return switch (spec.type()) {
            case EXP2 -> Math.pow(2, spec.min() + slot) * m;
            case EXP2ZERO -> {
                long k = spec.min() + slot;
                yield k == 0 ? 0 : Math.pow(2, k - 1) * m;
            }
            case LINEAR -> (spec.min() + slot) * m;
            case FIXED -> spec.keys().get(slot) * m;
        };
    }

    /** The slot of a bucket key as the label decoded it, or -1 when it is outside every bucket and the sum. */
    int slotOf(long key) {
        if (spec.type() == BucketType.FIXED) {
            List<Double> keys = spec.keys();
            for (int i = 0; i < keys.size(); i++) {
                if (keys.get(i) == key) {
                    return i;
                }
            }
            return key == keys.getLast() + 1 ? sumSlot() : -1;
        }
        if (key < spec.min() || key > spec.max() + 1) {
            return -1;
        }
        return (int) (key - spec.min());
    }

    /**
     * A bucket label's text as a key, as Go's {@code strconv.ParseUint(s, 0, 64)} reads it (decimal,
     * {@code 0x} hex, {@code 0} octal, {@code 0b} binary).
     *
     * @throws NumberFormatException when it is not a number
     */
    static long parseKey(String s) {
        String v = s.replace("_", "");
        if (v.startsWith("0x") || v.startsWith("0X")) {
            return Long.parseUnsignedLong(v.substring(2), 16);
        }
        if (v.startsWith("0b") || v.startsWith("0B")) {
            return Long.parseUnsignedLong(v.substring(2), 2);
        }
        if (v.startsWith("0o") || v.startsWith("0O")) {
            return Long.parseUnsignedLong(v.substring(2), 8);
        }
        if (v.length() > 1 && v.startsWith("0")) {
            return Long.parseUnsignedLong(v.substring(1), 8);
        }
        return Long.parseUnsignedLong(v);
    }
}
