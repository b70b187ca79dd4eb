package io.cgscope.linux;

import io.cgscope.testing.CProbe;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The architecture table against the headers its numbers come from. */
class ArchTest {
    @Test
    void namesSelectARow() {
        assertSame(Arch.X86_64, Arch.of("amd64"));
        assertSame(Arch.X86_64, Arch.of("x86_64"));
        assertSame(Arch.ARM64, Arch.of("aarch64"));
        assertNull(Arch.of("riscv64"));
        assertNull(Arch.of(""));
    }

    /** This machine's row is what its C compiler and headers say, number for number. */
    @Test
    void thisMachinesRowMatchesItsHeaders() throws Exception {
        Arch a = Arch.current();
        Map<String, String> exprs = new LinkedHashMap<>();
        exprs.put("sysPerfEventOpen", "SYS_perf_event_open");
        exprs.put("oDirectory", "O_DIRECTORY");
        exprs.put("oNofollow", "O_NOFOLLOW");
        exprs.put("vaListSize", "sizeof(va_list)");
        exprs.put("statfsSize", "sizeof(struct statfs)");
        exprs.put("statfsFsidOffset", "offsetof(struct statfs, f_fsid)");
        exprs.put("passwdSize", "sizeof(struct passwd)");
        exprs.put("passwdUidOffset", "offsetof(struct passwd, pw_uid)");
        exprs.put("passwdGidOffset", "offsetof(struct passwd, pw_gid)");
        Map<String, Long> c = CProbe.evaluate(List.of("stdarg.h", "fcntl.h", "pwd.h", "sys/vfs.h", "sys/syscall.h"),
                exprs);
        Map<String, Long> ours = new LinkedHashMap<>();
        ours.put("sysPerfEventOpen", a.sysPerfEventOpen);
        ours.put("oDirectory", (long) a.oDirectory);
        ours.put("oNofollow", (long) a.oNofollow);
        ours.put("vaListSize", (long) a.vaListSize);
        ours.put("statfsSize", (long) a.statfsSize);
        ours.put("statfsFsidOffset", (long) a.statfsFsidOffset);
        ours.put("passwdSize", (long) a.passwdSize);
        ours.put("passwdUidOffset", (long) a.passwdUidOffset);
        ours.put("passwdGidOffset", (long) a.passwdGidOffset);
        assertEquals(c, ours, a.label);
    }

    /**
     * arm64's system call number comes from the generic table, which every Linux header package
     * installs (the arm64 open flags are in its own asm/fcntl.h, not installed on x86-64; the
     * other numbers are the LP64 ABI's, checked above on this machine).
     */
    @Test
    void arm64SyscallNumberMatchesTheGenericTable() throws Exception {
        String generic = Files.readString(Path.of("/usr/include/asm-generic/unistd.h"));
        Matcher m = Pattern.compile("#define __NR_perf_event_open (\\d+)").matcher(generic);
        m.find();
        assertEquals(Arch.ARM64.sysPerfEventOpen, Long.parseLong(m.group(1)));
    }
}
