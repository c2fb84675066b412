package dev.doorbuster.chaos;

import java.io.IOException;
import java.util.List;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.model.Toxic;

/** Removing a named toxic from proxies, tolerating ones already gone (heal must be idempotent). */
final class Toxics {
    private Toxics() {
    }

    static void removeEverywhere(ChaosContext context, List<String> proxies, String toxicName) throws IOException {
        IOException first = null;
        for (String name : proxies) {
            try {
                Proxy proxy = context.proxy(name);
                for (Toxic toxic : proxy.toxics().getAll()) {
                    if (toxic.getName().equals(toxicName)) {
                        toxic.remove();
                    }
                }
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
