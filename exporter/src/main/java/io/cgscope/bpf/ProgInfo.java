package io.cgscope.bpf;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct bpf_prog_info} of {@code <linux/bpf.h>} (as of Linux 6.1), the answer of
 * {@code bpf_obj_get_info_by_fd} for a program: written out field by field so that an offset is
 * named, not counted. uapi types only ({@code __u32}, {@code __u64}, {@code __aligned_u64}), so
 * the layout is the same on every architecture. A kernel that knows fewer fields fills what it
 * knows and says how much in {@code info_len}; one that knows more fills only the size asked for.
 */
final class ProgInfo {
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("type"),
            JAVA_INT.withName("id"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("tag"),           // BPF_TAG_SIZE
            JAVA_INT.withName("jited_prog_len"),
            JAVA_INT.withName("xlated_prog_len"),
            JAVA_LONG.withName("jited_prog_insns"),
            JAVA_LONG.withName("xlated_prog_insns"),
            JAVA_LONG.withName("load_time"),
            JAVA_INT.withName("created_by_uid"),
            JAVA_INT.withName("nr_map_ids"),
            JAVA_LONG.withName("map_ids"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("name"),         // BPF_OBJ_NAME_LEN
            JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("gpl_compatible"),                                  // a 1-bit field and 31 bits of padding
            JAVA_LONG.withName("netns_dev"),
            JAVA_LONG.withName("netns_ino"),
            JAVA_INT.withName("nr_jited_ksyms"),
            JAVA_INT.withName("nr_jited_func_lens"),
            JAVA_LONG.withName("jited_ksyms"),
            JAVA_LONG.withName("jited_func_lens"),
            JAVA_INT.withName("btf_id"),
            JAVA_INT.withName("func_info_rec_size"),
            JAVA_LONG.withName("func_info"),
            JAVA_INT.withName("nr_func_info"),
            JAVA_INT.withName("nr_line_info"),
            JAVA_LONG.withName("line_info"),
            JAVA_LONG.withName("jited_line_info"),
            JAVA_INT.withName("nr_jited_line_info"),
            JAVA_INT.withName("line_info_rec_size"),
            JAVA_INT.withName("jited_line_info_rec_size"),
            JAVA_INT.withName("nr_prog_tags"),
            JAVA_LONG.withName("prog_tags"),
            JAVA_LONG.withName("run_time_ns"),
            JAVA_LONG.withName("run_cnt"),
            JAVA_LONG.withName("recursion_misses"),
            JAVA_INT.withName("verified_insns"),
            JAVA_INT.withName("attach_btf_obj_id"),
            JAVA_INT.withName("attach_btf_id"),
            MemoryLayout.paddingLayout(4)                                         // __attribute__((aligned(8)))
    ).withName("bpf_prog_info");

    /** {@code sizeof(struct bpf_prog_info)}: 232. */
    static final int SIZE = (int) LAYOUT.byteSize();
    /** Nanoseconds the kernel spent in the program (counted while {@code kernel.bpf_stats_enabled} is 1). */
    static final long RUN_TIME_NS = LAYOUT.byteOffset(groupElement("run_time_ns"));
    /** Runs of the program (counted while {@code kernel.bpf_stats_enabled} is 1). */
    static final long RUN_CNT = LAYOUT.byteOffset(groupElement("run_cnt"));

    private ProgInfo() {
    }

    static long runTimeNs(MemorySegment info) {
        return info.get(ValueLayout.JAVA_LONG, RUN_TIME_NS);
    }

    static long runCount(MemorySegment info) {
        return info.get(ValueLayout.JAVA_LONG, RUN_CNT);
    }
}
