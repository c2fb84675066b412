package dev.doorbuster.proxy;

import dev.doorbuster.proxy.toxics.Toxic;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every proxy of a server, by name. Each operation is one API call's worth of work, run under the
 * registry's monitor so that API calls apply one after the other, as Toxiproxy's collection lock does.
 */
final class ProxyRegistry {

    /** One entry of a populate request. */
    record PopulateEntry(String name, String listen, String upstream, boolean enabled) {
    }

    /** The result of a populate: what was processed before the first failure, and that failure if any. */
    record PopulateResult(List<Proxy.View> proxies, ApiException error) {
    }

    private final DataPlane dataPlane;
    private final Map<String, Proxy> proxies = new TreeMap<>();
    private final AtomicLong toxicIds = new AtomicLong();

    ProxyRegistry(DataPlane dataPlane) {
        this.dataPlane = dataPlane;
    }

    synchronized Proxy.View create(String name, String listen, String upstream, boolean enabled) throws ApiException {
        if (proxies.containsKey(name)) {
            throw ApiException.proxyExists();
        }
        Proxy proxy = new Proxy(name, listen, upstream, dataPlane);
        if (enabled) {
            proxy.start(); // a bind error leaves the proxy out
        }
        proxies.put(name, proxy);
        return proxy.view();
    }

    /** All proxies, sorted by name. */
    synchronized List<Proxy.View> list() {
        List<Proxy.View> views = new ArrayList<>(proxies.size());
        for (Proxy proxy : proxies.values()) {
            views.add(proxy.view());
        }
        return views;
    }

    synchronized Map<String, Integer> connectionCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        proxies.forEach((name, proxy) -> counts.put(name, proxy.connectionCount()));
        return counts;
    }

    private Proxy proxy(String name) throws ApiException {
        Proxy proxy = proxies.get(name);
        if (proxy == null) {
            throw ApiException.proxyNotFound();
        }
        return proxy;
    }

    synchronized Proxy.View get(String name) throws ApiException {
        return proxy(name).view();
    }

    /** The update body's fields, with the proxy's current values for those it leaves out. */
    interface ProxyChange {
        String listen(Proxy.View current);

        String upstream(Proxy.View current);

        boolean enabled(Proxy.View current);
    }

    synchronized Proxy.View update(String name, ProxyChange change) throws ApiException {
        Proxy proxy = proxy(name);
        Proxy.View current = proxy.view();
        proxy.update(change.listen(current), change.upstream(current), change.enabled(current));
        return proxy.view();
    }

    synchronized void delete(String name) throws ApiException {
        Proxy proxy = proxy(name);
        proxies.remove(name);
        proxy.stop();
    }

    /**
     * Creates, keeps or replaces proxies in order: a new name is created; a name whose resolved listen and
     * upstream match is kept untouched (toxics and enabled state included); any other is replaced by a new
     * proxy without toxics. Stops at the first failure; what was processed before it stays.
     */
    synchronized PopulateResult populate(List<PopulateEntry> entries) {
        List<Proxy.View> processed = new ArrayList<>();
        for (PopulateEntry entry : entries) {
            try {
                Proxy existing = proxies.get(entry.name());
                if (existing != null) {
                    if (existing.matches(entry.listen(), entry.upstream())) {
                        processed.add(existing.view());
                        continue;
                    }
                    proxies.remove(entry.name());
                    existing.stop();
                }
                processed.add(create(entry.name(), entry.listen(), entry.upstream(), entry.enabled()));
            } catch (ApiException e) {
                return new PopulateResult(processed, e);
            }
        }
        return new PopulateResult(processed, null);
    }

    /** Enables every proxy and removes all toxics; stops at the first proxy that cannot bind. */
    synchronized void reset() throws ApiException {
        for (Proxy proxy : proxies.values()) {
            proxy.start();
            proxy.removeAllToxics();
        }
    }

    synchronized void closeAll() {
        for (Proxy proxy : proxies.values()) {
            proxy.stop();
        }
        proxies.clear();
    }

    // ---- toxics ----

    synchronized List<ToxicDefinition> toxics(String proxyName) throws ApiException {
        return proxy(proxyName).toxics();
    }

    synchronized ToxicDefinition toxic(String proxyName, String toxicName) throws ApiException {
        return proxy(proxyName).toxic(toxicName);
    }

    /** What a toxic-create request needs once its JSON passed the first checks. */
    interface ToxicRequest {
        /** Validates the attributes for the now known type and builds the toxic (400 on bad values). */
        Toxic build() throws ApiException;
    }

    synchronized ToxicDefinition addToxic(String proxyName, String toxicName, String stream, Direction direction,
            float toxicity, ToxicRequest request) throws ApiException {
        Proxy proxy = proxy(proxyName);
        if (proxy.hasToxic(toxicName)) {
            throw ApiException.toxicExists();
        }
        ToxicDefinition definition = new ToxicDefinition(
                toxicIds.incrementAndGet(), toxicName, stream, direction, toxicity, request.build());
        proxy.addToxic(definition);
        return definition;
    }

    /** How a toxic-update request changes a toxic, given its current definition. */
    interface ToxicChange {
        float toxicity(ToxicDefinition current) throws ApiException;

        Toxic toxic(ToxicDefinition current) throws ApiException;
    }

    synchronized ToxicDefinition updateToxic(String proxyName, String toxicName, ToxicChange change)
            throws ApiException {
        Proxy proxy = proxy(proxyName);
        ToxicDefinition current = proxy.toxic(toxicName);
        Toxic toxic = change.toxic(current);
        float toxicity = change.toxicity(current);
        return proxy.updateToxic(toxicName, toxicity, toxic);
    }

    synchronized void removeToxic(String proxyName, String toxicName) throws ApiException {
        proxy(proxyName).removeToxic(toxicName);
    }
}
