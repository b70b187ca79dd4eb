package io.cgscope.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test that touches the real kernel (or drives a real browser: {@link Requirement#BROWSER}). Off
 * CI it is skipped, with the reason, when the machine lacks what it needs; with {@code CI=true} it
 * is never skipped: a missing requirement, or an assumption that fails inside the test, fails it
 * instead, so a green CI proves the kernel path.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kernel")
@ExtendWith(KernelTestExtension.class)
public @interface KernelTest {
    /** What the test needs. */
    Requirement[] value() default {Requirement.ROOT, Requirement.CGROUP2};

    enum Requirement {
        ROOT, CGROUP2, BPF,
        /** QEMU and busybox-static for {@link GuestVm}, and apt to fetch the guest's kernel. */
        QEMU,
        /** Debian's chromium and chromium-driver, for the live page's browser test. */
        BROWSER
    }
}
