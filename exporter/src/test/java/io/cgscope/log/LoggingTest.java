package io.cgscope.log;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.logging.LogManager;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertFalse;

class LoggingTest {
    @AfterEach
    void reset() {
        LogManager.getLogManager().reset();
    }

    @Test
    void stderrStaysOpenAfterConfiguring() {
        Logging.configure("info", "logfmt");
        Logger.getLogger("io.cgscope.test").info("a line");
        Logging.configure("info", "json"); // configuring again must not close it either
        System.err.println("stderr still writable");
        assertFalse(System.err.checkError(), "System.err was closed by the log handler");
    }
}
