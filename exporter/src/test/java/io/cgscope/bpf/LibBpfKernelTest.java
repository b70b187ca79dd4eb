package io.cgscope.bpf;

import io.cgscope.testing.BpfPrograms;
import io.cgscope.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed libbpf binding against the real libbpf and kernel: how a refusal reads. */
@KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.BPF})
class LibBpfKernelTest {
    private static byte[] bundled() throws Exception {
        try (InputStream in = BpfCompanion.class.getResourceAsStream(BpfCompanion.RESOURCE)) {
            return in.readAllBytes();
        }
    }

    /**
     * A map of zero entries: libbpf accepts the size, the kernel refuses to create the map. The
     * exception names the call, libbpf's text for the errno, and libbpf's own explanation.
     */
    @Test
    void aRefusedLoadNamesTheCallTheErrnoAndLibbpfsReason() throws Exception {
        LibBpfLog.install();
        Set<Long> before = BpfPrograms.heldBy(ProcessHandle.current().pid());
        try (BpfObject obj = BpfObject.open(bundled())) {
            obj.setMaxEntries(List.of(BpfMaps.PER_CGROUP.getFirst()), 0);
            BpfException e = assertThrows(BpfException.class, obj::load);
            String m = e.getMessage();
            assertTrue(m.startsWith("bpf_object__load failed: Invalid argument (-22); libbpf: "), m);
            assertTrue(m.contains(BpfMaps.PER_CGROUP.getFirst()), m);
        }
        assertEquals(before, BpfPrograms.heldBy(ProcessHandle.current().pid()), "nothing left loaded");
    }

    @Test
    void aMissingProgramIsNamed() throws Exception {
        try (BpfObject obj = BpfObject.open(bundled())) {
            BpfException e = assertThrows(BpfException.class, () -> obj.program("no_such_program"));
            assertEquals("the BPF object has no program no_such_program", e.getMessage());
        }
    }

    @Test
    void libbpfErrorTextsComeFromLibbpf() throws Exception {
        assertEquals("bpf_map_delete_elem(x) failed: No such file or directory (-2)",
                LibBpf.failure("bpf_map_delete_elem(x)", -2).getMessage());
        assertTrue(LibBpf.numPossibleCpus() >= Runtime.getRuntime().availableProcessors());
    }
}
