package dev.doorbuster.process;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The class path of this code, for JVMs Doorbuster starts from it (the storefront, the watchdog). */
public final class Classpath {
    private Classpath() {
    }

    /**
     * The classpath this code was loaded from. Under {@code mvn exec:java} the JVM's own class path is only
     * Maven's launcher, and the project's classes come from a URLClassLoader: take its URLs then.
     */
    public static String current() {
        List<String> entries = new ArrayList<>();
        for (ClassLoader loader = Classpath.class.getClassLoader(); loader != null; loader = loader.getParent()) {
            if (loader instanceof URLClassLoader urls) {
                for (URL url : urls.getURLs()) {
                    if ("file".equals(url.getProtocol())) {
                        try {
                            entries.add(Path.of(url.toURI()).toString());
                        } catch (URISyntaxException | IllegalArgumentException e) {
                            // not a local file: skip it
                        }
                    }
                }
            }
        }
        return entries.isEmpty() ? System.getProperty("java.class.path") : String.join(File.pathSeparator, entries);
    }
}
