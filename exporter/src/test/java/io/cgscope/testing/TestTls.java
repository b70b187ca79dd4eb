package io.cgscope.testing;

import at.favre.lib.crypto.bcrypt.BCrypt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test credentials made at test time: self-signed certificates and keys from {@code openssl}
 * (run as a process; no key material is checked in), bcrypt hashes from the favre library.
 */
public final class TestTls {
    /** {@code htpasswd -nbB -C 5 prom s3cret} (apache2-utils 2.4), which writes the $2y$ form. */
    public static final String PROM_S3CRET_2Y = "$2y$05$ctd5hRe6ixIpTUO2zPoaFerHwK7JqQ4j9AiW3m3pcP2Yb3O9SaDA.";

    private TestTls() {
    }

    /** A self-signed certificate for localhost and 127.0.0.1 and its unencrypted PKCS#8 RSA key. */
    public static void selfSignedRsa(Path cert, Path key) throws IOException {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    }

    /** The same with a P-256 EC key. */
    public static void selfSignedEc(Path cert, Path key) throws IOException {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    }

    /** Runs {@code openssl} with these arguments; fails with its output when it fails. */
    public static void openssl(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("openssl " + String.join(" ", args) + " did not finish in 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed (" + p.exitValue() + "): " + out);
        }
    }

    /** A bcrypt hash of the password at cost 5 (fast in tests), in this form: {@code 2a}, {@code 2b}, {@code 2y}. */
    public static String bcrypt(String password, String version) {
        BCrypt.Version v = switch (version) {
            case "2a" -> BCrypt.Version.VERSION_2A;
            case "2b" -> BCrypt.Version.VERSION_2B;
            case "2y" -> BCrypt.Version.VERSION_2Y;
            default -> throw new IllegalArgumentException(version);
        };
        return BCrypt.with(v).hashToString(5, password.toCharArray());
    }
}
