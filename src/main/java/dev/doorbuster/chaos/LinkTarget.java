package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.doorbuster.topology.DatabaseLinks;

/** Which application-to-database links a fault hits. */
public enum LinkTarget {
    /** The link to the current primary (the writer pool's). */
    PRIMARY,
    /** The links to the replicas (the reader pool's). */
    REPLICAS,
    /** Both. */
    ALL;

    /** The proxy names this target means right now. */
    List<String> proxies(DatabaseLinks links) {
        List<String> names = new ArrayList<>();
        if (this != REPLICAS && links.primaryApp() != null) {
            names.add(links.primaryApp());
        }
        if (this != PRIMARY) {
            names.addAll(links.replicaApp());
        }
        return names;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
