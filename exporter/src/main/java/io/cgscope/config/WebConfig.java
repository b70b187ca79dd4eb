package io.cgscope.config;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code --web.config.file}: the web configuration file that Prometheus exporters share
 * (exporter-toolkit's {@code web-config.yml}). cgscope reads
 * {@code tls_server_config.cert_file}/{@code key_file} (PEM) and {@code basic_auth_users}
 * (user: bcrypt hash, as {@code htpasswd -B} writes: {@code $2a$}, {@code $2b$}, {@code $2y$}).
 * Relative file names are relative to the config file's directory. Unknown keys are an error,
 * so a typo never silently turns TLS or auth off. The certificate and key are read and checked
 * here, at start-up ({@link TlsFiles}): not PEM, not RSA or EC, or a key that is not the
 * certificate's is one line naming the file, before anything privileged happens.
 */
public final class WebConfig {
    private static final Set<String> TOP_KEYS = Set.of("tls_server_config", "basic_auth_users", "http_server_config");
    private static final Set<String> TLS_KEYS = Set.of("cert_file", "key_file", "min_version", "max_version",
            "client_auth_type", "client_ca_file", "cipher_suites", "prefer_server_cipher_suites", "curve_preferences");
    /** bcrypt costs 50-100 ms per check at the usual cost 10: remember good credentials a while. */
    private static final Duration AUTH_CACHE = Duration.ofMinutes(5);

    /**
     * What an unknown user's password is checked against, so that a wrong user name costs the
     * same bcrypt time as a wrong password (exporter-toolkit does the same). Made by
     * {@code htpasswd -nbBC 10} from a random password that was then thrown away.
     */
    private static final byte[] NO_USER = "$2y$10$THDT3Ob70ZYEl.1gud6YAONlcct6NvU0aah/rV0UiICr9YZ.X49Gm"
            .getBytes(StandardCharsets.US_ASCII);

    private final Path certFile;
    private final Path keyFile;
    private final TlsFiles tlsFiles;
    private final Map<String, byte[]> users;
    private final Cache<String, Boolean> verified = Caffeine.newBuilder()
            .expireAfterWrite(AUTH_CACHE).maximumSize(1024).build();

    private WebConfig(Path certFile, Path keyFile, TlsFiles tlsFiles, Map<String, byte[]> users) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.tlsFiles = tlsFiles;
        this.users = users;
    }

    /** Reads and checks the file; every problem is one line naming it. */
    public static WebConfig load(Path file) throws ConfigException {
        String where = "--web.config.file=" + file + ": ";
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(where + "cannot read: " + e.getMessage());
        }
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (YAMLException e) {
            throw new ConfigException(where + "not valid YAML: " + e.getMessage().replace('\n', ' '));
        }
        if (root == null) {
            return new WebConfig(null, null, null, Map.of());
        }
        Map<?, ?> top = map(root, where + "the top level");
        for (Object k : top.keySet()) {
            if (!TOP_KEYS.contains(String.valueOf(k))) {
                throw new ConfigException(where + "unknown key \"" + k + "\" (known: " + String.join(", ", TOP_KEYS) + ")");
            }
        }
        Path dir = file.toAbsolutePath().getParent();
        Path cert = null;
        Path key = null;
        TlsFiles tlsFiles = null;
        if (top.get("tls_server_config") != null) {
            Map<?, ?> tls = map(top.get("tls_server_config"), where + "tls_server_config");
            for (Object k : tls.keySet()) {
                if (!TLS_KEYS.contains(String.valueOf(k))) {
                    throw new ConfigException(where + "unknown key \"tls_server_config." + k + "\"");
                }
                if (!Set.of("cert_file", "key_file").contains(String.valueOf(k))) {
                    throw new ConfigException(where + "tls_server_config." + k + " is not supported by cgscope");
                }
            }
            cert = file(dir, tls.get("cert_file"), where + "tls_server_config.cert_file");
            key = file(dir, tls.get("key_file"), where + "tls_server_config.key_file");
            tlsFiles = TlsFiles.load(cert, key, where);
        }
        if (top.get("http_server_config") != null) {
            throw new ConfigException(where + "http_server_config is not supported by cgscope");
        }
        Map<String, byte[]> users = new LinkedHashMap<>();
        if (top.get("basic_auth_users") != null) {
            Map<?, ?> m = map(top.get("basic_auth_users"), where + "basic_auth_users");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String user = String.valueOf(e.getKey());
                String hash = e.getValue() == null ? "" : String.valueOf(e.getValue());
                if (!hash.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
                    throw new ConfigException(where + "basic_auth_users." + user
                            + " is not a bcrypt hash ($2a$, $2b$ or $2y$, as htpasswd -B writes)");
                }
                users.put(user, hash.getBytes(StandardCharsets.US_ASCII));
            }
        }
        return new WebConfig(cert, key, tlsFiles, Map.copyOf(users));
    }

    private static Map<?, ?> map(Object o, String what) throws ConfigException {
        if (!(o instanceof Map<?, ?> m)) {
            throw new ConfigException(what + " must be a mapping");
        }
        return m;
    }

    private static Path file(Path dir, Object value, String what) throws ConfigException {
        if (value == null || String.valueOf(value).isBlank()) {
            throw new ConfigException(what + " is missing");
        }
        Path p = dir.resolve(String.valueOf(value));
        if (!Files.isReadable(p)) {
            throw new ConfigException(what + ": cannot read " + p);
        }
        return p;
    }

    public boolean tls() {
        return certFile != null;
    }

    public Path certFile() {
        return certFile;
    }

    public Path keyFile() {
        return keyFile;
    }

    /** The certificate file's bytes as read and checked at load (PEM; the server's certificate first). */
    public byte[] certPem() {
        return tlsFiles.certPem();
    }

    /** The key file's bytes as read and checked at load (PEM). */
    public byte[] keyPem() {
        return tlsFiles.keyPem();
    }

    public boolean basicAuth() {
        return !users.isEmpty();
    }

    /**
     * Whether the password is right for the user. Slow (bcrypt) on first sight: call it off the
     * event loop. Good credentials are remembered for a few minutes, by a SHA-256 of them, never in
     * clear. An unknown user costs a bcrypt check too, so timing does not tell which users exist.
     */
    public boolean authenticate(String user, String password) {
        if (user == null || password == null) {
            return false;
        }
        if (remembered(user, password)) {
            return true;
        }
        byte[] hash = users.get(user);
        boolean ok = BCrypt.verifyer().verify(password.getBytes(StandardCharsets.UTF_8),
                hash == null ? NO_USER : hash).verified && hash != null;
        if (ok) {
            verified.put(fingerprint(user, password), Boolean.TRUE);
        }
        return ok;
    }

    /** Fast (a SHA-256 and a map lookup, fine on the event loop): whether these credentials passed recently. */
    public boolean remembered(String user, String password) {
        return user != null && password != null && users.containsKey(user)
                && verified.getIfPresent(fingerprint(user, password)) != null;
    }

    private static String fingerprint(String user, String password) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(user.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(password.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
