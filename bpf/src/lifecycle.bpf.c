// SPDX-License-Identifier: GPL-2.0
/*
 * cgscope's BPF index source: every cgroup mkdir and rmdir of every hierarchy,
 * as records in a BPF ring buffer, for kernels whose kernfs has no fsid (before
 * 6.6 the fanotify FILESYSTEM mark on cgroupfs is refused with ENODEV).
 *
 * A record carries what the fanotify CREATE and DELETE events carry together,
 * and the cgroup's own id at mkdir too (fanotify's CREATE lacks it): the
 * hierarchy id, the cgroup id (its kernfs node id, what
 * bpf_get_current_cgroup_id() returns for the unified hierarchy and what
 * fanotify's file handles hold), the parent's id, the level and the name.
 * So every cgroup is learned, even one that lived a microsecond, with no
 * system call of the reader per cgroup.
 *
 * Its own object, not a program of the companion (cgscope.bpf.o): the index
 * starts before the companion, whatever --bpf.programs selects, and its
 * failure means another index mode, not a program down.
 *
 * Portability (checked on 6.1 and 6.18, whose BTF differ here):
 * - tp_btf, not tp/cgroup/...: no tracefs needed (it is not mounted on a fresh
 *   host), the arguments are typed pointers (direct, fault-safe loads), and
 *   both kernels pass (struct cgroup *, const char *path) to these events.
 * - The parent is reached through the cgroup's css (self.parent->cgroup), not
 *   kernfs: kernfs_node.parent became __parent in 6.15 (RCU), the css link is
 *   the same in both.
 * - The name is kn->name, read with bpf_probe_read_kernel_str; the path the
 *   tracepoint computes is not used (the index derives paths from the ids).
 * - bpf_ringbuf_output (5.8+), not the dynptr reservation (6.0+): the records
 *   are as long as their name, so the ring holds about 60,000 of them per
 *   MiB of short names instead of 3,500 of the longest.
 *
 * cgroup_release (the cgroup freed, when its last reference goes, long after
 * rmdir) and cgroup_rename (v1 only: cgroup2 refuses renames) are not
 * attached: rmdir is a cgroup's death for the index, and the index keeps a
 * cgroup's name for its life (a renamed v1 cgroup keeps its old name there).
 *
 * Loss is never silent: a record the ring has no room for is counted in
 * `lost` (in .bss, which userspace maps and reads without a system call); any
 * increase makes the reader re-sync the index with a sweep, as a fanotify
 * queue overflow does.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define RING_SIZE (4 << 20) /* default; userspace overrides with bpf_map__set_max_entries */
#define NAME_MAX 255

/* Record types; userspace knows them (LifecycleRecords.java). */
enum lifecycle_type {
	LIFECYCLE_MKDIR = 1,
	LIFECYCLE_RMDIR = 2,
};

/*
 * One record, little-endian as the host, 24 bytes and the name (not NUL
 * terminated; its length is name_len). The ring adds its own 8-byte header
 * and pads each record to 8 bytes. Userspace knows this layout
 * (LifecycleRecords.java).
 */
struct lifecycle_event {
	__u64 id;        /* kernfs node id of the cgroup */
	__u64 parent_id; /* the parent's; 0 for a hierarchy root */
	__u32 hierarchy; /* cgroup_root.hierarchy_id: 0 is the unified hierarchy (cgroup2) */
	__u16 level;     /* depth: 0 for a root, 1 for its children */
	__u8 type;       /* enum lifecycle_type */
	__u8 name_len;   /* bytes of name */
	char name[NAME_MAX + 1];
};

#define HEADER_SIZE 24

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RING_SIZE);
} events SEC(".maps");

/* A record is built here, then copied into the ring as long as its name: 280 bytes do not fit the stack well. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lifecycle_event);
} scratch SEC(".maps");

/* Records that did not fit the ring (it was full): any increase means a re-sync. */
__u64 lost = 0;

static __always_inline int emit(struct cgroup *cgrp, __u8 type)
{
	struct cgroup_subsys_state *parent;
	struct lifecycle_event *e;
	__u32 zero = 0;
	long len;

	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->id = cgrp->kn->id;
	parent = cgrp->self.parent;
	e->parent_id = parent ? parent->cgroup->kn->id : 0;
	e->hierarchy = cgrp->root->hierarchy_id;
	e->level = cgrp->level;
	e->type = type;
	len = bpf_probe_read_kernel_str(e->name, sizeof(e->name), cgrp->kn->name);
	if (len < 1)
		len = 1; /* an unreadable name is sent empty; the index still learns the id */
	len -= 1;    /* the NUL */
	e->name_len = len;
	/* Bound for the verifier: the size of the copy must be provably within the value. */
	barrier_var(len);
	if (len > NAME_MAX)
		len = NAME_MAX;
	if (bpf_ringbuf_output(&events, e, HEADER_SIZE + len, 0))
		__sync_fetch_and_add(&lost, 1);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_mkdir, struct cgroup *cgrp, const char *path)
{
	return emit(cgrp, LIFECYCLE_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(on_rmdir, struct cgroup *cgrp, const char *path)
{
	return emit(cgrp, LIFECYCLE_RMDIR);
}
