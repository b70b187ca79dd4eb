package io.cgscope.bpf;

import io.cgscope.linux.Fd;
import io.cgscope.linux.PerfEvents;
import io.cgscope.linux.SyscallException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The attachments of one program: a {@code bpf_link} for a tracepoint program, or for a
 * {@code perf_event} program one cpu-clock event and link per online CPU. All or nothing: on a
 * failure the links made so far are destroyed. Destroying a perf link also closes its perf event
 * fd (libbpf owns it once attached).
 */
final class Links implements AutoCloseable {
    private final List<MemorySegment> links = new ArrayList<>();

    private Links() {
    }

    /** Attaches one program. */
    static Links attach(BpfObject obj, Feature.Prog p, int sampleHz) throws BpfException {
        Links l = new Links();
        try {
            MemorySegment prog = obj.program(p.name());
            if (p.perfEvent()) {
                for (int cpu : onlineCpus()) {
                    l.attachPerfEvent(prog, p.name(), cpu, sampleHz);
                }
            } else {
                l.links.add(attachTracepoint(prog, p.name()));
            }
            return l;
        } catch (BpfException | RuntimeException e) {
            l.close();
            throw e;
        }
    }

    private static MemorySegment attachTracepoint(MemorySegment prog, String name) throws BpfException {
        return LibBpf.programAttach(prog, name);
    }

    private void attachPerfEvent(MemorySegment prog, String name, int cpu, int hz) throws BpfException {
        Fd event;
        try {
            event = PerfEvents.cpuClock(cpu, hz);
        } catch (SyscallException e) {
            throw new BpfException(e.getMessage(), e);
        }
        try {
            // The link owns the perf fd now: bpf_link__destroy closes it. Our Fd is dropped unclosed.
            links.add(LibBpf.programAttachPerfEvent(prog, name, cpu, event.get()));
        } catch (BpfException | RuntimeException e) {
            event.closeQuietly();
            throw e;
        }
    }

    /** The online CPUs from {@code /sys/devices/system/cpu/online} ({@code 0-3,6}); CPU 0 alone if unreadable. */
    static List<Integer> onlineCpus() {
        try {
            return parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        } catch (IOException | RuntimeException e) {
            return List.of(0);
        }
    }

    static List<Integer> parseCpuList(String text) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : text.strip().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            if (dash < 0) {
                cpus.add(Integer.parseInt(part));
            } else {
                int lo = Integer.parseInt(part.substring(0, dash));
                int hi = Integer.parseInt(part.substring(dash + 1));
                for (int c = lo; c <= hi; c++) {
                    cpus.add(c);
                }
            }
        }
        return cpus;
    }

    /** Destroys every link (detaching the programs; perf events closed with their links). Idempotent. */
    @Override
    public void close() {
        for (MemorySegment link : links) {
            LibBpf.linkDestroy(link);
        }
        links.clear();
    }
}
