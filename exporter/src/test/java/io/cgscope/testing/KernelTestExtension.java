package io.cgscope.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Implements {@link KernelTest}: skip with a reason off CI, fail under {@code CI=true}. */
public final class KernelTestExtension
        implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback, TestExecutionExceptionHandler {

    static boolean onCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> missing = missing(context);
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("kernel requirements met");
        }
        if (onCi()) {
            // Run it anyway; the before-callbacks fail it with the reason.
            return ConditionEvaluationResult.enabled("CI=true: a kernel test is never skipped");
        }
        return ConditionEvaluationResult.disabled("kernel test skipped: " + missing.get());
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        failOnCiIfMissing(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        failOnCiIfMissing(context);
    }

    private static void failOnCiIfMissing(ExtensionContext context) {
        Optional<String> missing = missing(context);
        if (missing.isPresent() && onCi()) {
            throw new AssertionFailedError("kernel test cannot run under CI=true: " + missing.get());
        }
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        if (throwable instanceof TestAbortedException && onCi()) {
            throw new AssertionFailedError("kernel test aborted under CI=true: " + throwable.getMessage(), throwable);
        }
        throw throwable;
    }

    private static Optional<String> missing(ExtensionContext context) {
        KernelTest.Requirement[] needs = context.getElement()
                .flatMap(e -> AnnotationSupport.findAnnotation(e, KernelTest.class))
                .or(() -> context.getTestClass().flatMap(c -> AnnotationSupport.findAnnotation(c, KernelTest.class)))
                .map(KernelTest::value)
                .orElse(new KernelTest.Requirement[0]);
        List<String> reasons = new ArrayList<>();
        for (KernelTest.Requirement r : needs) {
            switch (r) {
                case ROOT -> {
                    if (!isRoot()) {
                        reasons.add("needs root (uid 0)");
                    }
                }
                case CGROUP2 -> {
                    if (TestCgroups.hierarchyRoot().isEmpty()) {
                        reasons.add("needs a cgroup2 hierarchy mounted");
                    }
                }
                case BPF -> {
                    if (!Files.isReadable(Path.of("/sys/kernel/btf/vmlinux"))) {
                        reasons.add("needs BPF with BTF (/sys/kernel/btf/vmlinux)");
                    }
                }
                case QEMU -> {
                    String qemu = GuestVm.missingRequirement();
                    if (qemu != null) {
                        reasons.add(qemu);
                    }
                }
                case BROWSER -> Browser.missing().ifPresent(reasons::add);
            }
        }
        return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", reasons));
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException ignored) {
            // not Linux: not root for our purposes
        }
        return false;
    }
}
