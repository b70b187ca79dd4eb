package io.cgscope.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds and reads a container's {@code config.json} in the runtime directories
 * ({@code --workload.runtime-dirs}). Each directory may hold either runtime's layout, tried in
 * this order for a container id {@code <id>}:
 * <ul>
 *   <li>{@code <dir>/<namespace>/<id>/config.json}: containerd's task bundles
 *       ({@code /run/containerd/io.containerd.runtime.v2.task}; Kubernetes' namespace is
 *       {@code k8s.io}, docker's {@code moby});</li>
 *   <li>{@code <dir>/<id>/userdata/config.json}: containers/storage's run root, where CRI-O and
 *       podman keep each container's spec ({@code /run/containers/storage/overlay-containers});</li>
 *   <li>{@code <dir>/<id>/config.json}: a plain bundle directory (e.g. one containerd namespace).</li>
 * </ul>
 * Never throws: a bundle that is not there, cannot be read or is no spec is a {@link Result} with
 * the reason.
 */
public final class BundleReader {
    /** Why a bundle gave nothing; the values of {@code cgscope_workload_bundle_errors_total{reason}}. */
    public enum Failure {
        /** No {@code config.json} for the container in any runtime directory. */
        MISSING("missing"),
        /** One exists but cannot be read (permissions: containerd makes each bundle directory 0700; I/O errors). */
        UNREADABLE("unreadable"),
        /** It is not a JSON object with string annotations, or larger than {@link OciBundle#MAX_BYTES}. */
        MALFORMED("malformed");

        private final String label;

        Failure(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A bundle read, or why not. */
    public record Result(BundleInfo info, Failure failure, String detail) {
        static Result failed(Failure f, String detail) {
            return new Result(null, f, detail);
        }
    }

    private final List<Path> dirs;

    public BundleReader(List<Path> dirs) {
        this.dirs = List.copyOf(dirs);
    }

    public List<Path> dirs() {
        return dirs;
    }

    /** Reads the bundle of a container id (64 hex digits: it is a path component). */
    public Result read(String containerId) {
        if (containerId == null || !isId(containerId)) {
            return Result.failed(Failure.MISSING, "not a container id");
        }
        String denied = null;
        for (Path dir : dirs) {
            // containerd: <dir>/<namespace>/<id>/config.json
            try (DirectoryStream<Path> namespaces = Files.newDirectoryStream(dir)) {
                for (Path ns : namespaces) {
                    String name = ns.getFileName().toString();
                    if (name.startsWith(".") || isId(name)) {
                        // containerd's atomic delete renames to .<id>; a container's own directory
                        // (containers/storage, a plain bundle directory) is tried below
                        continue;
                    }
                    Path config = ns.resolve(containerId).resolve("config.json");
                    Result r = tryRead(config, name.equals("moby") ? Workload.Runtime.DOCKER : Workload.Runtime.CONTAINERD);
                    if (r != null) {
                        if (r.failure() != Failure.UNREADABLE) {
                            return r;
                        }
                        denied = r.detail();
                    }
                }
            } catch (NoSuchFileException | NotDirectoryException e) {
                continue;
            } catch (AccessDeniedException e) {
                denied = dir + ": permission denied";
                continue;
            } catch (IOException | RuntimeException e) {
                denied = dir + ": " + e;
                continue;
            }
            for (Path config : List.of(dir.resolve(containerId).resolve("userdata").resolve("config.json"),
                    dir.resolve(containerId).resolve("config.json"))) {
                Result r = tryRead(config, null);
                if (r != null) {
                    if (r.failure() != Failure.UNREADABLE) {
                        return r;
                    }
                    denied = r.detail();
                }
            }
        }
        return denied != null ? Result.failed(Failure.UNREADABLE, denied)
                : Result.failed(Failure.MISSING, "no config.json for " + containerId + " in " + dirs);
    }

    /** A container id: 64 lower-case hex digits (and so a safe path component). */
    static boolean isId(String s) {
        if (s == null || s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** The bundle at {@code config}, or null when there is none. */
    private static Result tryRead(Path config, Workload.Runtime layout) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(config)) {
            bytes = in.readNBytes(OciBundle.MAX_BYTES + 1);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return null;
        } catch (AccessDeniedException e) {
            return Result.failed(Failure.UNREADABLE, config + ": permission denied");
        } catch (IOException | RuntimeException e) {
            return Result.failed(Failure.UNREADABLE, config + ": " + e);
        }
        if (bytes.length > OciBundle.MAX_BYTES) {
            return Result.failed(Failure.MALFORMED, config + ": larger than " + OciBundle.MAX_BYTES + " bytes");
        }
        try {
            return new Result(OciBundle.parse(bytes, layout), null, null);
        } catch (OciBundle.MalformedException e) {
            return Result.failed(Failure.MALFORMED, config + ": " + e.getMessage());
        }
    }
}
