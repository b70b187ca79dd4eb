package io.cgscope.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebConfigTest {
    /** {@code htpasswd -nbB -C 5 prom s3cret} (apache2-utils 2.4), which writes the $2y$ form. */
    private static final String PROM_2Y = "$2y$05$ctd5hRe6ixIpTUO2zPoaFerHwK7JqQ4j9AiW3m3pcP2Yb3O9SaDA.";

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
    void tlsFilesAreRelativeToTheConfigFile() throws Exception {
        Files.writeString(dir.resolve("cert.pem"), "x");
        Files.writeString(dir.resolve("key.pem"), "x");
        WebConfig c = WebConfig.load(write("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"));
        assertTrue(c.tls());
        assertEquals(dir.resolve("cert.pem"), c.certFile());
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
