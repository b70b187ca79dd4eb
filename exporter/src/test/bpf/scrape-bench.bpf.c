// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark object (ScrapeBench ... user): the maps of a typical per-cgroup user program, filled
 * from user space by the benchmark (no program: nothing else writes them). A counter per cgroup
 * and an exp2 latency histogram per cgroup (bucket 27 holds the sum).
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

struct latency_key {
    u64 cgroup;
    u64 bucket;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, u64);
    __type(value, u64);
} bench_cgroup_events_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 131072);
    __type(key, struct latency_key);
    __type(value, u64);
} bench_cgroup_latency_seconds SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
