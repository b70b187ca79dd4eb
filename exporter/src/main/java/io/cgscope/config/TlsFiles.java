package io.cgscope.config;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TLS certificate and key of {@code tls_server_config}, read once and checked at start-up
 * with the JDK alone: the certificate file holds PEM X.509 certificates (the server's first, then
 * its chain), the key file one unencrypted PEM RSA or EC key in the forms the HTTP server takes
 * ({@code PRIVATE KEY} (PKCS#8), {@code RSA PRIVATE KEY} (PKCS#1), {@code EC PRIVATE KEY} (SEC1)),
 * and the key belongs to the first certificate (a signature made with it verifies with the
 * certificate's public key). The server is then given these same bytes.
 */
final class TlsFiles {
    private final byte[] certPem;
    private final byte[] keyPem;

    private TlsFiles(byte[] certPem, byte[] keyPem) {
        this.certPem = certPem;
        this.keyPem = keyPem;
    }

    byte[] certPem() {
        return certPem.clone();
    }

    byte[] keyPem() {
        return keyPem.clone();
    }

    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

    static TlsFiles load(Path cert, Path key, String where) throws ConfigException {
        String certWhere = where + "tls_server_config.cert_file=" + cert + ": ";
        String keyWhere = where + "tls_server_config.key_file=" + key + ": ";
        byte[] certPem = read(cert, certWhere);
        byte[] keyPem = read(key, keyWhere);
        X509Certificate first = certificate(certPem, certWhere);
        PrivateKey privateKey = privateKey(keyPem, first, keyWhere);
        if (!pairs(privateKey, first.getPublicKey())) {
            throw new ConfigException(keyWhere + "the key does not belong to the certificate in " + cert
                    + " (" + first.getSubjectX500Principal().getName() + ")");
        }
        return new TlsFiles(certPem, keyPem);
    }

    private static byte[] read(Path file, String where) throws ConfigException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException(where + "cannot read: " + e.getMessage());
        }
    }

    private static X509Certificate certificate(byte[] pem, String where) throws ConfigException {
        List<byte[]> blocks = blocks(pem, "CERTIFICATE", where);
        if (blocks.isEmpty()) {
            throw new ConfigException(where + "no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
        }
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            return (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(blocks.get(0)));
        } catch (CertificateException e) {
            throw new ConfigException(where + "not a valid X.509 certificate: " + oneLine(e));
        }
    }

    private static PrivateKey privateKey(byte[] pem, X509Certificate cert, String where) throws ConfigException {
        String algorithm = cert.getPublicKey().getAlgorithm();
        if (!algorithm.equals("RSA") && !algorithm.equals("EC")) {
            throw new ConfigException(where + "the certificate's key is " + algorithm + "; cgscope takes RSA or EC");
        }
        String traditional = algorithm + " PRIVATE KEY"; // PKCS#1 for RSA, SEC1 for EC
        List<byte[]> pkcs8Blocks = blocks(pem, "PRIVATE KEY", where);
        List<byte[]> traditionalBlocks = blocks(pem, traditional, where);
        byte[] pkcs8;
        if (!pkcs8Blocks.isEmpty()) {
            pkcs8 = pkcs8Blocks.get(0);
        } else if (!traditionalBlocks.isEmpty()) {
            // PKCS#1 and SEC1 are PKCS#8's inner key: wrap it with the certificate's algorithm
            // identifier (rsaEncryption; id-ecPublicKey with the curve), as a PKCS#8 header says.
            pkcs8 = der(0x30, concat(new byte[] {2, 1, 0}, algorithmIdentifier(cert.getPublicKey()),
                    der(0x04, traditionalBlocks.get(0))));
        } else if (!blocks(pem, "ENCRYPTED PRIVATE KEY", where).isEmpty() || new String(pem, StandardCharsets.US_ASCII)
                .contains("Proc-Type: 4,ENCRYPTED")) {
            throw new ConfigException(where + "the key is encrypted; cgscope takes an unencrypted key"
                    + " (protect the file instead)");
        } else {
            throw new ConfigException(where + "no PEM " + algorithm + " private key (-----BEGIN PRIVATE KEY----- or -----BEGIN "
                    + traditional + "-----) in it");
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new ConfigException(where + "not a valid " + algorithm + " private key: " + oneLine(e));
        }
    }

    /** Whether a signature made with the private key verifies with the public key. */
    private static boolean pairs(PrivateKey privateKey, PublicKey publicKey) {
        String algorithm = privateKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false; // e.g. an EC key on another curve
        }
    }

    /** The contents of the PEM blocks of this type, in file order. */
    private static List<byte[]> blocks(byte[] pem, String type, String where) throws ConfigException {
        List<byte[]> out = new ArrayList<>();
        Matcher m = PEM.matcher(new String(pem, StandardCharsets.US_ASCII));
        while (m.find()) {
            if (m.group(1).equals(type)) {
                try {
                    out.add(Base64.getMimeDecoder().decode(m.group(2)));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(where + "bad base64 in its PEM " + type + ": " + e.getMessage());
                }
            }
        }
        return out;
    }

    /** SubjectPublicKeyInfo is SEQUENCE { AlgorithmIdentifier, BIT STRING }: its first element, whole. */
    private static byte[] algorithmIdentifier(PublicKey key) {
        byte[] spki = key.getEncoded();
        int at = 1 + lengthOfLength(spki, 1); // inside the outer SEQUENCE
        int length = length(spki, at + 1);
        int total = 1 + lengthOfLength(spki, at + 1) + length;
        byte[] out = new byte[total];
        System.arraycopy(spki, at, out, 0, total);
        return out;
    }

    private static int lengthOfLength(byte[] der, int at) {
        int b = der[at] & 0xff;
        return b < 0x80 ? 1 : 1 + (b & 0x7f);
    }

    private static int length(byte[] der, int at) {
        int b = der[at] & 0xff;
        if (b < 0x80) {
            return b;
        }
        int n = 0;
        for (int i = 1; i <= (b & 0x7f); i++) {
            n = n << 8 | der[at + i] & 0xff;
        }
        return n;
    }

    private static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(n >>> 8 * i & 0xff);
            }
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String oneLine(Exception e) {
        return String.valueOf(e.getMessage()).replace('\n', ' ');
    }
}
