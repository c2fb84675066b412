package dev.doorbuster.process;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operating-system user the servers a run starts (PostgreSQL, Redis) run as.
 *
 * <p>initdb and postgres refuse to run as root. When this JVM is not root, servers simply run as the
 * current user. When it is root (CI containers, many build machines), servers run as an unprivileged
 * user through {@code setpriv}, which replaces itself with the server ({@code exec}, no fork), so the
 * {@link Process} we hold is the postmaster itself and signals reach it directly. ({@code runuser} would
 * stay in between and SIGKILL the server 2 s after a SIGTERM.)
 *
 * <p>The user is {@code -Ddoorbuster.pg.user} (or {@code DOORBUSTER_PG_USER}) if set, else an existing
 * {@code postgres} user, else {@code doorbuster}, which is created as a system user if missing.
 */
public final class ServerUser {
    public static final String PROPERTY = "doorbuster.pg.user";
    public static final String ENVIRONMENT = "DOORBUSTER_PG_USER";
    private static final String CREATED_USER = "doorbuster";
    private static final Logger log = LoggerFactory.getLogger(ServerUser.class);

    private final String name;
    private final boolean switching;
    private final int uid;
    private final int gid;

    private ServerUser(String name, boolean switching, int uid, int gid) {
        this.name = name;
        this.switching = switching;
        this.uid = uid;
        this.gid = gid;
    }

    /** The user to run servers as, from configuration and who this JVM runs as. */
    public static ServerUser detect() {
        String configured = System.getProperty(PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENVIRONMENT);
        }
        if (configured != null && configured.isBlank()) {
            configured = null;
        }
        int me = currentUid();
        String myName = System.getProperty("user.name");
        if (me != 0) {
            if (configured != null && !configured.equals(myName)) {
                throw new ProcessException(PROPERTY + "=" + configured + " asks to run PostgreSQL as another user, which "
                        + "needs root, but this JVM runs as '" + myName + "'. Unset " + PROPERTY + " (servers then run "
                        + "as '" + myName + "') or run as root.");
            }
            return new ServerUser(myName, false, me, -1);
        }
        requireSetpriv();
        String name = configured != null ? configured : chooseUnprivilegedUser();
        int[] ids = lookUp(name);
        if (ids == null) {
            throw new ProcessException("PostgreSQL cannot run as root and the configured user '" + name + "' (" + PROPERTY
                    + ") does not exist. Create it (useradd --system --no-create-home --shell /usr/sbin/nologin "
                    + name + ") or set " + PROPERTY + " to an existing unprivileged user.");
        }
        if (ids[0] == 0) {
            throw new ProcessException(PROPERTY + "=" + name + " is root (uid 0), and PostgreSQL refuses to run as root. "
                    + "Name an unprivileged user, e.g. postgres.");
        }
        return new ServerUser(name, true, ids[0], ids[1]);
    }

    /** The effective uid of this JVM (0 for root). */
    public static int currentUid() {
        return DoorbusterHome.currentUid();
    }

    public String name() {
        return name;
    }

    /** True when servers run as a different user than this JVM (this JVM is root). */
    public boolean switchesUser() {
        return switching;
    }

    /** {@code command} as it must be launched so that it runs as this user. */
    public List<String> command(List<String> command) {
        if (!switching) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid,
                "--init-groups", "--reset-env"));
        wrapped.addAll(command);
        return wrapped;
    }

    /** Makes {@code path} and everything below it belong to this user (no-op when not switching). */
    public void own(Path path) {
        if (!switching) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
            UserPrincipal owner = lookup.lookupPrincipalByName(Integer.toString(uid));
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(Integer.toString(gid));
            try (Stream<Path> tree = Files.walk(path)) {
                for (Path p : (Iterable<Path>) tree::iterator) {
                    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    view.setOwner(owner);
                    view.setGroup(group);
                }
            }
        } catch (IOException e) {
            throw new ProcessException("cannot give " + path + " to OS user '" + name + "' (who runs the servers): " + e
                    + ". Use a work folder on a local file system that root can chown.");
        }
    }

    /**
     * Fails unless this user can reach {@code dir}: every folder above it must be searchable by them.
     * Only matters when switching users: e.g. a work folder under /root (mode 0700) cannot be reached
     * by 'postgres', and the server would fail later with a far less helpful message.
     */
    public void requireReachable(Path dir, String what) {
        if (!switching) {
            return;
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            try {
                PosixFileAttributes attributes = Files.readAttributes(p, PosixFileAttributes.class);
                int ownerUid = (Integer) Files.getAttribute(p, "unix:uid");
                int groupGid = (Integer) Files.getAttribute(p, "unix:gid");
                Set<PosixFilePermission> perms = attributes.permissions();
                boolean searchable = ownerUid == uid ? perms.contains(PosixFilePermission.OWNER_EXECUTE)
                        : groupGid == gid ? perms.contains(PosixFilePermission.GROUP_EXECUTE)
                        : perms.contains(PosixFilePermission.OTHERS_EXECUTE);
                if (!searchable) {
                    throw new ProcessException("Servers run as OS user '" + name + "' (this JVM is root), who cannot "
                            + "reach the " + what + " " + dir + ": " + p + " is not searchable by them (mode "
                            + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "). Put it under a "
                            + "folder every user can enter (e.g. -D" + DoorbusterHome.PROPERTY
                            + "=/var/tmp/doorbuster) or run: chmod o+x " + p);
                }
            } catch (IOException e) {
                return; // A folder we cannot stat does not exist yet: it will be created by us.
            }
        }
    }

    private static String chooseUnprivilegedUser() {
        for (String candidate : List.of("postgres", CREATED_USER)) {
            if (lookUp(candidate) != null) {
                return candidate;
            }
        }
        Exec.Result created = Exec.run(List.of("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                "--shell", "/usr/sbin/nologin", "--user-group", CREATED_USER), null, Duration.ofSeconds(30));
        if (!created.ok()) {
            throw new ProcessException("PostgreSQL cannot run as root and there is no unprivileged user to run it as: "
                    + "neither 'postgres' nor '" + CREATED_USER + "' exists, and creating '" + CREATED_USER
                    + "' failed (" + created.output().trim() + "). Create one (useradd --system --no-create-home "
                    + "--shell /usr/sbin/nologin " + CREATED_USER + "), set -D" + PROPERTY
                    + "=<user>, or run as a non-root user.");
        }
        log.info("Created system user '{}' to run PostgreSQL (it refuses to run as root)", CREATED_USER);
        return CREATED_USER;
    }

    private static int[] lookUp(String user) {
        Exec.Result uid = Exec.run(List.of("id", "-u", user), null, Duration.ofSeconds(10));
        Exec.Result gid = Exec.run(List.of("id", "-g", user), null, Duration.ofSeconds(10));
        if (!uid.ok() || !gid.ok()) {
            return null;
        }
        try {
            return new int[] {Integer.parseInt(uid.output().trim()), Integer.parseInt(gid.output().trim())};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void requireSetpriv() {
        Exec.Result probe = Exec.run(List.of("setpriv", "--version"), null, Duration.ofSeconds(10));
        if (!probe.ok()) {
            throw new ProcessException("PostgreSQL cannot run as root, and switching to an unprivileged user needs "
                    + "'setpriv' (util-linux), which is not available (" + probe.output().trim() + "). Install "
                    + "util-linux or run as a non-root user.");
        }
    }

    @Override
    public String toString() {
        return name + (switching ? " (via setpriv)" : "");
    }
}
