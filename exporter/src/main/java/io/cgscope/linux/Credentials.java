package io.cgscope.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Users and the privilege drop: {@code getpwnam}, {@code setgroups}, {@code setresgid},
 * {@code setresuid}. glibc's set*id wrappers change the credentials of every thread of the
 * process (they signal each thread to do the same system call), which is what a JVM with many
 * threads needs.
 */
public final class Credentials {
    // struct passwd *getpwnam(const char *name);  <pwd.h>  (called once at start-up: not reentrant, fine)
    private static final MethodHandle GETPWNAM = Libc.withErrno("getpwnam",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    // int setgroups(size_t size, const gid_t *list);  <grp.h>
    private static final MethodHandle SETGROUPS = Libc.withErrno("setgroups",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
    // int setresgid(gid_t rgid, gid_t egid, gid_t sgid);  <unistd.h>
    private static final MethodHandle SETRESGID = Libc.withErrno("setresgid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    // int setresuid(uid_t ruid, uid_t euid, uid_t suid);  <unistd.h>
    private static final MethodHandle SETRESUID = Libc.withErrno("setresuid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));

    /** A user to become. */
    public record User(String name, int uid, int gid) {
    }

    private Credentials() {
    }

    /**
     * The user named {@code spec}: a name from the user database, or {@code UID} / {@code UID:GID}.
     *
     * @return null when no such user exists
     */
    public static User lookup(String spec) throws SyscallException {
        if (spec.matches("\\d+(:\\d+)?")) {
            String[] parts = spec.split(":");
            int uid = Integer.parseUnsignedInt(parts[0]);
            int gid = parts.length > 1 ? Integer.parseUnsignedInt(parts[1]) : uid;
            return new User(spec, uid, gid);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState();
            // getpwnam leaves errno 0 for "no such user" and sets it for real failures.
            state.fill((byte) 0);
            MemorySegment pw = (MemorySegment) GETPWNAM.invokeExact(state, arena.allocateFrom(spec));
            if (pw.equals(MemorySegment.NULL)) {
                int errno = Libc.errno(state);
                if (errno != 0 && errno != Errno.ENOENT) {
                    throw new SyscallException("getpwnam(" + spec + ")", errno);
                }
                return null;
            }
            // struct passwd: pw_name, pw_passwd, pw_uid (u32), pw_gid (u32), ...; offsets in Arch
            Arch arch = Arch.current();
            MemorySegment p = pw.reinterpret(arch.passwdSize);
            return new User(spec, p.get(JAVA_INT, arch.passwdUidOffset), p.get(JAVA_INT, arch.passwdGidOffset));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Clears the supplementary groups, then sets real, effective and saved gid and uid; all threads. */
    public static void become(User user) throws SyscallException {
        try {
            MemorySegment state = Libc.callState();
            if ((int) SETGROUPS.invokeExact(state, 0L, MemorySegment.NULL) < 0) {
                throw new SyscallException("setgroups(0)", Libc.errno(state));
            }
            int g = user.gid();
            if ((int) SETRESGID.invokeExact(state, g, g, g) < 0) {
                throw new SyscallException("setresgid(" + Integer.toUnsignedString(g) + ")", Libc.errno(state));
            }
            int u = user.uid();
            if ((int) SETRESUID.invokeExact(state, u, u, u) < 0) {
                throw new SyscallException("setresuid(" + Integer.toUnsignedString(u) + ")", Libc.errno(state));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
