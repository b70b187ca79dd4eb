package io.cgscope.linux;

import java.util.Locale;

/**
 * Every number cgscope passes to the kernel or reads from libc that differs between CPU
 * architectures, one row per architecture, chosen once from {@code os.arch}. Numbers that are
 * the same everywhere (the {@code asm-generic} errnos, fanotify's and perf's uapi structs, the
 * {@code linux_dirent64} layout, bpf's uapi) stay with the code that uses them; a number that
 * is not in this table is one that was checked to be the same on both.
 *
 * <p>Adding an architecture is adding a row (and building the BPF object for it: {@code bpf/Makefile}'s
 * {@code ARCH}); on any other architecture cgscope refuses to start ({@code Main}), since a wrong
 * number here is a wrong system call, not an error message.
 *
 * <p>Sources: system call numbers from {@code arch/x86/entry/syscalls/syscall_64.tbl} and
 * {@code include/uapi/asm-generic/unistd.h} (arm64 uses the generic table); open flags from
 * {@code include/uapi/asm-generic/fcntl.h} and {@code arch/arm64/include/uapi/asm/fcntl.h} (arm64
 * defines its own {@code O_DIRECTORY} and {@code O_NOFOLLOW} for AArch32 compatibility); the
 * {@code va_list} from the two ABIs (SysV x86-64: {@code {u32 gp_offset; u32 fp_offset; void
 * *overflow_arg_area; void *reg_save_area}}; AAPCS64: {@code {void *__stack, *__gr_top, *__vr_top;
 * int __gr_offs, __vr_offs}}); glibc's {@code struct statfs} and {@code struct passwd} (LP64 on
 * both, so equal, listed because they are ABI layouts).
 */
public enum Arch {
    X86_64("amd64", "x86-64",
            298,            // __NR_perf_event_open, syscall_64.tbl
            0x10000,        // O_DIRECTORY 00200000, asm-generic/fcntl.h
            0x20000,        // O_NOFOLLOW  00400000, asm-generic/fcntl.h
            24,             // sizeof(va_list)
            120, 56,        // sizeof(struct statfs), offsetof(struct statfs, f_fsid)
            48, 16, 20),    // sizeof(struct passwd), offsetof pw_uid, pw_gid
    ARM64("aarch64", "arm64",
            241,            // __NR_perf_event_open, asm-generic/unistd.h
            0x4000,         // O_DIRECTORY 040000, arm64 asm/fcntl.h
            0x8000,         // O_NOFOLLOW 0100000, arm64 asm/fcntl.h
            32,             // sizeof(va_list)
            120, 56,
            48, 16, 20);

    /** {@code os.arch} as the JVM names it. */
    public final String javaName;
    /** The name people use: {@code x86-64}, {@code arm64}. */
    public final String label;
    public final long sysPerfEventOpen;
    public final int oDirectory;
    public final int oNofollow;
    /** {@code sizeof(va_list)}; both ABIs pass a {@code va_list} argument as a pointer to it. */
    public final int vaListSize;
    public final int statfsSize;
    public final int statfsFsidOffset;
    public final int passwdSize;
    public final int passwdUidOffset;
    public final int passwdGidOffset;

    Arch(String javaName, String label, long sysPerfEventOpen, int oDirectory, int oNofollow, int vaListSize,
         int statfsSize, int statfsFsidOffset, int passwdSize, int passwdUidOffset, int passwdGidOffset) {
        this.javaName = javaName;
        this.label = label;
        this.sysPerfEventOpen = sysPerfEventOpen;
        this.oDirectory = oDirectory;
        this.oNofollow = oNofollow;
        this.vaListSize = vaListSize;
        this.statfsSize = statfsSize;
        this.statfsFsidOffset = statfsFsidOffset;
        this.passwdSize = passwdSize;
        this.passwdUidOffset = passwdUidOffset;
        this.passwdGidOffset = passwdGidOffset;
    }

    private static final String OS_ARCH = System.getProperty("os.arch", "");
    private static final Arch CURRENT = of(OS_ARCH);

    /** The row for a JVM {@code os.arch} name, or null when cgscope has none. */
    public static Arch of(String osArch) {
        String name = osArch.toLowerCase(Locale.ROOT);
        for (Arch a : values()) {
            if (a.javaName.equals(name) || a.label.equals(name) || name.equals("x86_64") && a == X86_64) {
                return a;
            }
        }
        return null;
    }

    /** Whether this JVM's architecture has a row. */
    public static boolean supported() {
        return CURRENT != null;
    }

    /**
     * This JVM's row.
     *
     * @throws IllegalStateException on an architecture without one ({@code Main} refuses to start first)
     */
    public static Arch current() {
        if (CURRENT == null) {
            throw new IllegalStateException(unsupportedMessage());
        }
        return CURRENT;
    }

    /** The one line cgscope prints when it refuses to start on this architecture. */
    public static String unsupportedMessage() {
        return "unsupported CPU architecture " + (OS_ARCH.isEmpty() ? "(os.arch unset)" : OS_ARCH)
                + ": cgscope knows the system call numbers and struct layouts of x86-64 (amd64) and arm64 (aarch64)";
    }
}
