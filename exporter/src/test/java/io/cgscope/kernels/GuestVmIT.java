package io.cgscope.kernels;

import io.cgscope.testing.GuestVm;
import io.cgscope.testing.KernelTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import static io.cgscope.testing.KernelTest.Requirement.QEMU;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest {@link GuestVm} promises to other tests, on each kernel of the matrix: the script runs
 * as root with its environment, its results come back, the host's root is readable but never
 * written, shares are mounted as asked, and cgroup2 is pure with every controller enabled. About
 * 10 s per kernel under TCG.
 */
@KernelTest({ROOT, QEMU})
class GuestVmIT {
    private static final String SCRIPT = """
            #!/bin/sh
            out=$CGSCOPE_RESULTS
            uname -r > $out/release
            id -u > $out/uid
            echo "$GREETING" > $out/env
            stat -f -c %T /sys/fs/cgroup > $out/cgroup-fs
            cat /sys/fs/cgroup/cgroup.subtree_control > $out/subtree-control
            grep -c ' cgroup ' /proc/mounts > $out/v1-mounts || true
            stat -f -c %T /sys/fs/bpf > $out/bpf-fs
            stat -f -c %T /sys/kernel/tracing > $out/tracing-fs
            test -r /sys/kernel/btf/vmlinux && echo yes > $out/btf
            cat "$HOST_FILE" > $out/host-file
            echo guest > "$HOST_FILE" && echo written > $out/overlay-write
            echo from-guest > /data/rw/made-in-guest
            echo x > /data/ro/refused 2>/dev/null || echo refused > $out/ro-share
            """;

    @ParameterizedTest
    @ValueSource(strings = {"6.1", "6.12"})
    void aGuestSeesWhatItIsPromised(String kernel) throws Exception {
        Path rw = Files.createTempDirectory("cgscope-guest-rw");
        Path ro = Files.createTempDirectory("cgscope-guest-ro");
        Path hostFile = Files.createTempFile("cgscope-guest-host", ".txt");
        try {
            Files.writeString(hostFile, "host\n");
            try (GuestVm vm = GuestVm.kernel(kernel).scriptText(SCRIPT).env("GREETING", "hello-guest")
                    .env("HOST_FILE", hostFile.toString()).share(rw, "/data/rw", true).share(ro, "/data/ro", false)
                    .timeout(Duration.ofMinutes(2)).boot()) {
                vm.awaitPowerOff();
                assertEquals(0, vm.exitStatus(), vm.consoleTail(40));
                Path r = vm.results();
                assertEquals(vm.release(), read(r, "release"), "the guest runs the kernel asked for");
                assertTrue(vm.release().startsWith(kernel + "."), vm.release());
                assertEquals("0", read(r, "uid"));
                assertEquals("hello-guest", read(r, "env"));
                assertEquals("cgroup2fs", read(r, "cgroup-fs"));
                assertEquals("0", read(r, "v1-mounts"), "no v1 hierarchy is mounted");
                assertTrue(Set.of(read(r, "subtree-control").split(" ")).containsAll(Set.of("cpu", "memory", "io", "pids")),
                        read(r, "subtree-control"));
                assertEquals("bpf_fs", read(r, "bpf-fs"));
                assertEquals("tracefs", read(r, "tracing-fs"));
                assertEquals("yes", read(r, "btf"));
                assertEquals("host", read(r, "host-file"), "the host's files are visible");
                assertEquals("written", read(r, "overlay-write"), "the guest may write over them");
                assertEquals("host\n", Files.readString(hostFile), "but the host's file never changes");
                assertEquals("from-guest\n", Files.readString(rw.resolve("made-in-guest")));
                assertEquals("refused", read(r, "ro-share"));
                assertFalse(Files.exists(ro.resolve("refused")));
                System.out.printf("GuestVmIT %s: %s %s (%s) with %s, booted and powered off in %d s%n", kernel,
                        vm.packageName(), vm.packageVersion(), vm.release(), vm.accel(), vm.wallTime().toSeconds());
            }
        } finally {
            Files.deleteIfExists(hostFile);
            io.cgscope.testing.Cleanup.deleteTree(rw);
            io.cgscope.testing.Cleanup.deleteTree(ro);
        }
    }

    private static String read(Path dir, String name) throws java.io.IOException {
        Path f = dir.resolve(name);
        assertTrue(Files.exists(f), "the guest wrote no " + name);
        return Files.readString(f).strip();
    }
}
