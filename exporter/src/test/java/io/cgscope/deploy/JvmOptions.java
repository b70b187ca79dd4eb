package io.cgscope.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code src/main/dist/jvm.options} as java reads an argument file, for the subset it uses:
 * a {@code #} starts a comment that runs to the end of the line; flags are separated by white space
 * (no quotes). image.sh reads it the same way to write the image's entrypoint.
 */
final class JvmOptions {
    private JvmOptions() {
    }

    static List<String> read(Path file) throws IOException {
        List<String> flags = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            int hash = line.indexOf('#');
            String text = (hash < 0 ? line : line.substring(0, hash)).strip();
            if (text.contains("\"") || text.contains("'")) {
                throw new IOException(file + ": quotes are not supported: " + line);
            }
            for (String flag : text.split("\\s+")) {
                if (!flag.isEmpty()) {
                    flags.add(flag);
                }
            }
        }
        return flags;
    }
}
