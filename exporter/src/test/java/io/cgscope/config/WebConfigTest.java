package io.cgscope.config;

import io.cgscope.testing.TestTls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebConfigTest {
    /** {@code htpasswd -nbB -C 5 prom s3cret} (apache2-utils 2.4), which writes the $2y$ form. */
    private static final String PROM_2Y = TestTls.PROM_S3CRET_2Y;

    @TempDir
    Path dir;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("web-config.yml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void basicAuthAcceptsEveryBcryptPrefix() throws Exception {
        String body = PROM_2Y.substring(3);
        WebConfig c = WebConfig.load(write("basic_auth_users:\n"
                + "  y: '" + PROM_2Y + "'\n"
                + "  a: '$2a" + body + "'\n"
                + "  b: '$2b" + body + "'\n"));
        assertTrue(c.basicAuth());
        assertFalse(c.tls());
        for (String user : new String[] {"y", "a", "b"}) {
            assertTrue(c.authenticate(user, "s3cret"), user);
            assertTrue(c.authenticate(user, "s3cret"), user + " again (remembered)");
            assertFalse(c.authenticate(user, "wrong"), user);
        }
        assertFalse(c.authenticate("nobody", "s3cret"));
        assertFalse(c.authenticate("y", null));
    }

    @Test
    void hashesMadeNowInEveryFormWork() throws Exception {
        WebConfig c = WebConfig.load(write("basic_auth_users:\n"
                + "  a: '" + TestTls.bcrypt("pa:ss wörd", "2a") + "'\n"
                + "  b: '" + TestTls.bcrypt("pa:ss wörd", "2b") + "'\n"
                + "  y: '" + TestTls.bcrypt("pa:ss wörd", "2y") + "'\n"));
        for (String user : new String[] {"a", "b", "y"}) {
            assertFalse(c.remembered(user, "pa:ss wörd"), user + " not yet checked");
            assertTrue(c.authenticate(user, "pa:ss wörd"), user);
            assertTrue(c.remembered(user, "pa:ss wörd"), user + " remembered after a good check");
            assertFalse(c.authenticate(user, "pa:ss"), user);
            assertFalse(c.remembered(user, "pa:ss"), user + ": a bad password is never remembered");
        }
        assertFalse(c.authenticate("a", "pa:ss wördx"));
        assertFalse(c.authenticate("nobody", "pa:ss wörd"), "unknown user (checked against a dummy hash)");
        assertFalse(c.authenticate(null, "x"));
    }

    @Test
    void tlsFilesAreRelativeToTheConfigFileAndReadOnce() throws Exception {
        TestTls.selfSignedRsa(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        byte[] cert = Files.readAllBytes(dir.resolve("cert.pem"));
        WebConfig c = WebConfig.load(write("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"));
        assertTrue(c.tls());
        assertFalse(c.basicAuth());
        assertEquals(dir.resolve("cert.pem"), c.certFile());
        assertEquals(dir.resolve("key.pem"), c.keyFile());
        Files.delete(dir.resolve("cert.pem"));
        assertArrayEquals(cert, c.certPem(), "the server gets the bytes that were checked");
    }

    @Test
    void everyKeyFormTheServerTakesIsAccepted() throws Exception {
        TestTls.selfSignedRsa(dir.resolve("rsa.crt"), dir.resolve("rsa-pkcs8.key"));
        TestTls.openssl("rsa", "-in", dir.resolve("rsa-pkcs8.key").toString(), "-traditional",
                "-out", dir.resolve("rsa-pkcs1.key").toString());
        TestTls.selfSignedEc(dir.resolve("ec.crt"), dir.resolve("ec-pkcs8.key"));
        TestTls.openssl("ec", "-in", dir.resolve("ec-pkcs8.key").toString(), "-out", dir.resolve("ec-sec1.key").toString());
        // what `openssl ecparam -genkey` writes: an EC PARAMETERS block, then the SEC1 key
        Files.writeString(dir.resolve("ec-params-sec1.key"), "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
                + "-----END EC PARAMETERS-----\n" + Files.readString(dir.resolve("ec-sec1.key")));
        String[][] pairs = {{"rsa.crt", "rsa-pkcs8.key", "BEGIN PRIVATE KEY"}, {"rsa.crt", "rsa-pkcs1.key", "BEGIN RSA"},
            {"ec.crt", "ec-pkcs8.key", "BEGIN PRIVATE KEY"}, {"ec.crt", "ec-sec1.key", "BEGIN EC PRIVATE"},
            {"ec.crt", "ec-params-sec1.key", "BEGIN EC PARAMETERS"}};
        for (String[] p : pairs) {
            assertTrue(Files.readString(dir.resolve(p[1])).startsWith("-----" + p[2]), p[1]);
            WebConfig c = WebConfig.load(write("tls_server_config: {cert_file: " + p[0] + ", key_file: " + p[1] + "}\n"));
            assertTrue(c.tls(), p[1]);
        }
    }

    @Test
    void badCertificatesAndKeysAreOneLineNamingTheFile() throws Exception {
        TestTls.selfSignedRsa(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        TestTls.selfSignedRsa(dir.resolve("other.crt"), dir.resolve("other.key"));
        TestTls.selfSignedEc(dir.resolve("ec.crt"), dir.resolve("ec.key"));
        TestTls.openssl("pkcs8", "-topk8", "-in", dir.resolve("key.pem").toString(), "-passout", "pass:x",
                "-out", dir.resolve("encrypted.key").toString());
        Files.writeString(dir.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
        Files.writeString(dir.resolve("text.pem"), "hello\n");
        Files.writeString(dir.resolve("badkey.pem"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        String[][] cases = {
            // cert, key, the file the message must name, what it must say
            {"cert.pem", "other.key", "key_file=" + dir.resolve("other.key"), "does not belong to the certificate"},
            {"cert.pem", "ec.key", "key_file=" + dir.resolve("ec.key"), "not a valid RSA private key"},
            {"ec.crt", "key.pem", "key_file=" + dir.resolve("key.pem"), "not a valid EC private key"},
            {"key.pem", "key.pem", "cert_file=" + dir.resolve("key.pem"), "no PEM certificate"},
            {"text.pem", "key.pem", "cert_file=" + dir.resolve("text.pem"), "no PEM certificate"},
            {"garbage.pem", "key.pem", "cert_file=" + dir.resolve("garbage.pem"), "not a valid X.509 certificate"},
            {"cert.pem", "cert.pem", "key_file=" + dir.resolve("cert.pem"), "no PEM RSA private key"},
            {"cert.pem", "text.pem", "key_file=" + dir.resolve("text.pem"), "no PEM RSA private key"},
            {"cert.pem", "badkey.pem", "key_file=" + dir.resolve("badkey.pem"), "not a valid RSA private key"},
            {"cert.pem", "encrypted.key", "key_file=" + dir.resolve("encrypted.key"), "encrypted"},
        };
        for (String[] c : cases) {
            Path f = write("tls_server_config:\n  cert_file: " + c[0] + "\n  key_file: " + c[1] + "\n");
            ConfigException e = assertThrows(ConfigException.class, () -> WebConfig.load(f), c[0] + " " + c[1]);
            assertTrue(e.getMessage().startsWith("--web.config.file=" + f + ": tls_server_config." + c[2] + ": "),
                    e.getMessage());
            assertTrue(e.getMessage().contains(c[3]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void anEmptyFileMeansPlainHttp() throws Exception {
        WebConfig c = WebConfig.load(write(""));
        assertFalse(c.tls());
        assertFalse(c.basicAuth());
    }

    @Test
    void problemsAreOneLineNamingThem() throws Exception {
        String[][] cases = {
            {"basic_auth_users:\n  u: plaintext\n", "basic_auth_users.u"},
            {"tls_server_config:\n  cert_file: missing.pem\n  key_file: missing.pem\n", "cert_file"},
            {"tls_server_config:\n  cert_fle: x\n", "cert_fle"},
            {"basic_auth_user:\n  u: x\n", "basic_auth_user"},
            {"tls_server_config: [1, 2\n", "YAML"},
            {"- a\n- b\n", "mapping"},
        };
        for (String[] c : cases) {
            Path f = write(c[0]);
            ConfigException e = assertThrows(ConfigException.class, () -> WebConfig.load(f), c[0]);
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        ConfigException e = assertThrows(ConfigException.class, () -> WebConfig.load(dir.resolve("none.yml")));
        assertTrue(e.getMessage().startsWith("--web.config.file="), e.getMessage());
    }
}
