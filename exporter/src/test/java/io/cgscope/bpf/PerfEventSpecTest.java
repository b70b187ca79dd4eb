package io.cgscope.bpf;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The perf event a section names, as ebpf_exporter's examples write it. */
class PerfEventSpecTest {
    @Test
    void parsesTypeConfigAndFrequency() throws BpfException {
        assertEquals(new PerfEventSpec(0, 3, 1), PerfEventSpec.parse("perf_event/type=0,config=3,frequency=1"));
        assertEquals(new PerfEventSpec(1, 0, 49), PerfEventSpec.parse("perf_event/frequency=49,type=1"),
                "any order; config defaults to 0");
        assertTrue(PerfEventSpec.names("perf_event/type=1,frequency=1"));
        assertFalse(PerfEventSpec.names("perf_event"), "libbpf's own bare section");
        assertFalse(PerfEventSpec.names("tp_btf/sched_switch"));
    }

    @Test
    void refusesWhatItDoesNotKnow() {
        for (String bad : new String[] {"perf_event/type=0,config=3", "perf_event/config=3,frequency=1",
                "perf_event/type=0,frequency=0", "perf_event/type=0,frequency=1,period=5",
                "perf_event/type=x,frequency=1", "perf_event/type=0,type=1,frequency=1", "perf_event/type",
                "perf_event/", "tracepoint/x"}) {
            BpfException e = assertThrows(BpfException.class, () -> PerfEventSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains("section") || e.getMessage().contains("needs"), e.getMessage());
        }
    }
}
