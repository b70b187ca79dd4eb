// SPDX-License-Identifier: GPL-2.0
/*
 * Test program (UserProgramsKernelTest): shapes of ebpf_exporter's format against real maps -
 * a metric without labels (an array's key u32 0), kaddrs (the address of a kernel symbol written
 * into a const volatile before load) decoded back by ksym, and a key struct with padding, the one
 * ebpf_exporter's README describes ({u32 dev; u8 op; u64 slot}: 3 bytes of padding after op).
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cgscope-maps.bpf.h"

const volatile u64 kaddr_schedule = 0;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} formats_switches_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, u64);
    __type(value, u64);
} formats_kaddr_total SEC(".maps");

struct disk_latency_key_t {
    u32 dev;
    u8 op;
    u64 slot;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct disk_latency_key_t);
    __type(value, u64);
} formats_padded_total SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    u32 zero = 0;
    u64 *all = bpf_map_lookup_elem(&formats_switches_total, &zero);
    u64 addr = kaddr_schedule;
    u64 one = 1;
    struct disk_latency_key_t key = {.dev = 7, .op = 3, .slot = 42};

    if (all)
        __sync_fetch_and_add(all, 1);
    bpf_map_update_elem(&formats_kaddr_total, &addr, &one, BPF_ANY);
    cgscope_add(&formats_padded_total, &key, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
