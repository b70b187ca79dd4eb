/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers for counters and log2 histograms in BPF hash maps of u64 values, the shape
 * ebpf_exporter's configuration format reads (and cgscope with it): README, "Bringing
 * ebpf_exporter programs".
 */
#ifndef CGSCOPE_MAPS_BPF_H
#define CGSCOPE_MAPS_BPF_H

/*
 * Adds n to the value of key, creating the entry at 0 first. A full map refuses the insert:
 * that count is lost (size max_entries for what the host runs).
 */
static __always_inline void cgscope_add(void *map, const void *key, u64 n)
{
    u64 *value = bpf_map_lookup_elem(map, key);

    if (!value) {
        u64 zero = 0;

        bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
        value = bpf_map_lookup_elem(map, key);
        if (!value)
            return;
    }
    __sync_fetch_and_add(value, n);
}

/*
 * The exp2 bucket of v: the smallest k with 2^k >= v (0 for v <= 1), so bucket k holds the values
 * in (2^(k-1), 2^k] and its upper bound le is 2^k, as bucket_type exp2 reads it.
 */
static __always_inline u64 cgscope_exp2_bucket(u64 v)
{
    u64 k = 0;

    if (v <= 1)
        return 0;
    v--;
    /* the position of the highest set bit of v-1, plus one: a few shifts, no loop for the verifier */
    if (v >> 32) { k += 32; v >>= 32; }
    if (v >> 16) { k += 16; v >>= 16; }
    if (v >> 8) { k += 8; v >>= 8; }
    if (v >> 4) { k += 4; v >>= 4; }
    if (v >> 2) { k += 2; v >>= 2; }
    if (v >> 1) { k += 1; v >>= 1; }
    return k + v;
}

#endif
