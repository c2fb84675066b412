package dev.doorbuster.topology.docker;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.model.Image;
import dev.doorbuster.topology.AppProcess;
import dev.doorbuster.topology.TopologyException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Doorbuster's own classes and their libraries layered on a Java runtime image, so that its proxy (and the
 * reference storefront, as a stand-in for a user's service) can run in a container. Built on this machine from
 * the classpath this JVM runs (the Maven artifacts), tagged by a digest of that classpath and of the base image:
 * an unchanged build is reused, a changed one replaces the older images.
 */
public final class RuntimeImage {
    /** Repository of the images; the tag is the digest. */
    public static final String REPOSITORY = "doorbuster/runtime";
    /** The class path inside the image, for {@code java -cp}. */
    public static final String CLASSPATH = "/doorbuster/classes/*:/doorbuster/lib/*";
    private static final String LABEL = "dev.doorbuster.runtime";
    private static final Logger log = LoggerFactory.getLogger(RuntimeImage.class);

    private RuntimeImage() {
    }

    /** The image for this classpath on {@code javaImage}, built now unless it exists; returns its name. */
    public static synchronized String ensure(DockerClient docker, String javaImage) {
        List<Path> entries = classpath();
        String tag = REPOSITORY + ":" + digest(javaImage, entries);
        if (DockerEngine.hasImage(docker, tag)) {
            return tag;
        }
        long started = System.nanoTime();
        Path context = null;
        try {
            context = Files.createTempFile("doorbuster-image-", ".tar");
            writeContext(context, javaImage, entries);
            try (InputStream tar = Files.newInputStream(context)) {
                docker.buildImageCmd().withTarInputStream(tar).withTags(Set.of(tag)).withPull(false)
                        .withLabels(Map.of(LABEL, "true", "dev.doorbuster.image", "true"))
                        .exec(new BuildImageResultCallback()).awaitImageId();
            }
        } catch (IOException | RuntimeException e) {
            throw new TopologyException("Cannot build Doorbuster's runtime image " + tag + " on '" + javaImage
                    + "' (docker.javaImage; it needs `java` 17+ on its PATH): " + e.getMessage());
        } finally {
            if (context != null) {
                try {
                    Files.deleteIfExists(context);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
        log.info("Built {} on {} in {} ms", tag, javaImage, (System.nanoTime() - started) / 1_000_000);
        removeOlder(docker, tag);
        return tag;
    }

    /**
     * Directories and jars of this JVM's classpath that exist, with the entries of manifest {@code Class-Path}s
     * (a launcher may run a "pathing jar" that only names the real classpath, as the Gatling plugin does).
     */
    private static List<Path> classpath() {
        java.util.Set<Path> entries = new java.util.LinkedHashSet<>();
        for (String entry : AppProcess.classpath().split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                addWithManifestClassPath(entries, Path.of(entry));
            }
        }
        return new ArrayList<>(entries);
    }

    private static void addWithManifestClassPath(java.util.Set<Path> entries, Path entry) {
        Path path = entry.toAbsolutePath().normalize();
        if (!Files.exists(path) || !entries.add(path) || !Files.isRegularFile(path)) {
            return;
        }
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(path.toFile())) {
            java.util.jar.Manifest manifest = jar.getManifest();
            String classPath = manifest == null ? null
                    : manifest.getMainAttributes().getValue(java.util.jar.Attributes.Name.CLASS_PATH);
            if (classPath != null) {
                for (String ref : classPath.trim().split("\\s+")) {
                    try {
                        addWithManifestClassPath(entries, Path.of(path.toUri().resolve(ref)));
                    } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                        log.debug("Skipping Class-Path entry {} of {}: {}", ref, path, e.toString());
                    }
                }
            }
        } catch (IOException e) {
            log.debug("Cannot read the manifest of {}: {}", path, e.toString());
        }
    }

    /** Base image plus every entry's files, sizes and modification times. */
    private static String digest(String javaImage, List<Path> entries) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(javaImage.getBytes(StandardCharsets.UTF_8));
            for (Path entry : entries) {
                try (Stream<Path> files = Files.isDirectory(entry) ? Files.walk(entry).sorted() : Stream.of(entry)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (Files.isRegularFile(f)) {
                            sha.update((f + "|" + Files.size(f) + "|" + Files.getLastModifiedTime(f).toMillis() + "\n")
                                    .getBytes(StandardCharsets.UTF_8));
                        }
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new TopologyException("Cannot read the classpath to build the runtime image: " + e);
        }
    }

    /** Dockerfile, then the jars (one layer, rarely changing), then the class folders. */
    private static void writeContext(Path tarFile, String javaImage, List<Path> entries) throws IOException {
        try (OutputStream out = Files.newOutputStream(tarFile);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            String dockerfile = "FROM " + javaImage + "\n"
                    + "COPY lib/ /doorbuster/lib/\n"
                    + "COPY classes/ /doorbuster/classes/\n"
                    + "WORKDIR /doorbuster\n";
            add(tar, "Dockerfile", dockerfile.getBytes(StandardCharsets.UTF_8));
            // COPY needs both folders, even if one stays empty.
            for (String folder : List.of("lib/", "classes/")) {
                TarArchiveEntry dir = new TarArchiveEntry(folder);
                dir.setMode(040755);
                tar.putArchiveEntry(dir);
                tar.closeArchiveEntry();
            }
            int jar = 0;
            int folder = 0;
            for (Path entry : entries) {
                if (Files.isDirectory(entry)) {
                    // Each class folder becomes a jar, so that "classes/*" on the class path takes them all.
                    add(tar, "classes/" + (folder++) + "-" + entry.getFileName() + ".jar", jarOf(entry));
                } else if (entry.toString().endsWith(".jar")) {
                    addFile(tar, "lib/" + (jar++) + "-" + entry.getFileName(), entry);
                }
            }
        }
    }

    private static byte[] jarOf(Path folder) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.jar.JarOutputStream jar = new java.util.jar.JarOutputStream(bytes);
             Stream<Path> files = Files.walk(folder).sorted()) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    jar.putNextEntry(new java.util.jar.JarEntry(folder.relativize(f).toString().replace(File.separatorChar, '/')));
                    Files.copy(f, jar);
                    jar.closeEntry();
                }
            }
        }
        return bytes.toByteArray();
    }

    private static void add(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setMode(0644);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static void addFile(TarArchiveOutputStream tar, String name, Path file) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(Files.size(file));
        entry.setMode(0644);
        tar.putArchiveEntry(entry);
        Files.copy(file, tar);
        tar.closeArchiveEntry();
    }

    /** Earlier runtime images (older classes) that no container uses. */
    private static void removeOlder(DockerClient docker, String keep) {
        try {
            for (Image image : docker.listImagesCmd().withLabelFilter(Map.of(LABEL, "true")).exec()) {
                String[] tags = image.getRepoTags();
                if (tags != null && List.of(tags).contains(keep)) {
                    continue;
                }
                try {
                    docker.removeImageCmd(image.getId()).exec();
                } catch (RuntimeException inUse) {
                    log.debug("Keeping runtime image {}: {}", image.getId(), inUse.toString());
                }
            }
        } catch (RuntimeException e) {
            log.debug("Could not list older runtime images: {}", e.toString());
        }
    }
}
