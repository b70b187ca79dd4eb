// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup system calls, and the sizes of write(2) calls per cgroup: an example of a user
 * program for cgscope in ebpf_exporter's format (cgroup-syscalls.yaml beside it; README,
 * "Bringing ebpf_exporter programs"). Built the way ebpf_exporter's documentation says:
 *
 *   bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
 *   clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I. -c cgroup-syscalls.bpf.c -o cgroup-syscalls.bpf.o
 *
 * (the Maven build does it: exporter/examples/Makefile). Every system call on the host runs
 * sys_enter, so this costs some tens of nanoseconds per call: an example, not a default.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cgscope-maps.bpf.h"

#if defined(__TARGET_ARCH_x86)
#define NR_WRITE 1 /* arch/x86/entry/syscalls/syscall_64.tbl */
#elif defined(__TARGET_ARCH_arm64)
#define NR_WRITE 64 /* include/uapi/asm-generic/unistd.h */
#else
#error "set __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

/* write sizes up to 2^26 bytes (64 MiB) have their own bucket; larger ones count in the last */
#define MAX_WRITE_BUCKET 26

/* labels: cgroup (8 bytes: uint, cgroup), syscall (8 bytes: uint, syscall) */
struct syscall_key {
    u64 cgroup;
    u64 syscall;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct syscall_key);
    __type(value, u64);
} cgroup_syscalls_total SEC(".maps");

/* labels: cgroup, then the bucket key; bucket MAX_WRITE_BUCKET + 1 holds the sum of the sizes */
struct write_key {
    u64 cgroup;
    u64 bucket;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct write_key);
    __type(value, u64);
} cgroup_write_size_bytes SEC(".maps");

SEC("raw_tp/sys_enter")
int BPF_PROG(count_syscall, struct pt_regs *regs, long id)
{
    struct syscall_key key = {.cgroup = bpf_get_current_cgroup_id(), .syscall = id};

    cgscope_add(&cgroup_syscalls_total, &key, 1);
    if (id == NR_WRITE) {
        u64 size = PT_REGS_PARM3_CORE_SYSCALL(regs);
        struct write_key wk = {.cgroup = key.cgroup, .bucket = cgscope_exp2_bucket(size)};

        if (wk.bucket > MAX_WRITE_BUCKET)
            wk.bucket = MAX_WRITE_BUCKET;
        cgscope_add(&cgroup_write_size_bytes, &wk, 1);
        wk.bucket = MAX_WRITE_BUCKET + 1;
        cgscope_add(&cgroup_write_size_bytes, &wk, size);
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
