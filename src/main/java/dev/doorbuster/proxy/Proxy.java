package dev.doorbuster.proxy;

import dev.doorbuster.proxy.toxics.Toxic;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxy: a TCP listener, the upstream it forwards to, its toxics and its live connections.
 *
 * <p>API operations reach a proxy one at a time (the {@link ProxyRegistry} serialises them); the data
 * plane reads its state under the proxy's monitor. Waits for the data plane (listener binds and closes,
 * toxic changes on live connections) happen outside the monitor and are bounded by {@link #WAIT_MILLIS},
 * so no API call can hang on a stuck connection.
 */
final class Proxy {

    private static final Logger LOG = LoggerFactory.getLogger(Proxy.class);

    /** Upper bound of every wait on the data plane made by one API operation. */
    static final long WAIT_MILLIS = 5_000;

    /** What a new connection needs to build its two links, read under one lock. */
    record LinkSetup(ToxicSnapshot upstreamToxics, ToxicSnapshot downstreamToxics,
            LongAdder upstreamReceived, LongAdder upstreamSent,
            LongAdder downstreamReceived, LongAdder downstreamSent) {
    }

    /** The proxy as the API shows it. */
    record View(String name, String listen, String upstream, boolean enabled, List<ToxicDefinition> toxics) {
    }

    private final String name;
    private final DataPlane dataPlane;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();

    // Guarded by this.
    private String listen;
    private String upstream;
    private boolean enabled;
    private Channel listener;
    /** Bumped by every start and stop: a connection accepted by an older listener is refused. */
    private long generation;
    private final List<ToxicDefinition> toxics = new ArrayList<>();
    private long toxicsVersion;

    Proxy(String name, String listen, String upstream, DataPlane dataPlane) {
        this.name = name;
        this.listen = listen == null ? "" : listen;
        this.upstream = upstream;
        this.dataPlane = dataPlane;
    }

    String name() {
        return name;
    }

    synchronized View view() {
        return new View(name, listen, upstream, enabled, toxicsInApiOrder());
    }

    synchronized boolean enabled() {
        return enabled;
    }

    synchronized String listen() {
        return listen;
    }

    synchronized String upstream() {
        return upstream;
    }

    int connectionCount() {
        return connections.size();
    }

    // ---- lifecycle ----

    /** Binds the listener (no-op if already running) and rewrites {@code listen} to the bound address. */
    void start() throws ApiException {
        String requested;
        long startGeneration;
        synchronized (this) {
            if (enabled) {
                return;
            }
            requested = listen;
            startGeneration = ++generation;
        }
        InetSocketAddress address;
        try {
            address = dataPlane.addresses().resolveListen(requested);
        } catch (ApiException e) {
            throw ApiException.internal("listen tcp: " + e.getMessage());
        }
        String printed = Addresses.format(address);
        ChannelFuture bind = dataPlane.listener(channel -> accept(channel, startGeneration)).bind(address);
        if (!bind.awaitUninterruptibly(WAIT_MILLIS)) {
            bind.cancel(false);
            bind.channel().close();
            throw ApiException.internal("listen tcp " + printed + ": i/o timeout");
        }
        if (!bind.isSuccess()) {
            throw ApiException.internal("listen tcp " + printed + ": bind: " + errorText(bind.cause()));
        }
        Channel bound = bind.channel();
        synchronized (this) {
            listener = bound;
            enabled = true;
            listen = Addresses.format((InetSocketAddress) bound.localAddress());
        }
        if (!address.getAddress().isLoopbackAddress()) {
            LOG.warn("Proxy {} listens on {}, which is reachable from other machines", name, listen());
        }
        LOG.info("Proxy {} listening on {}, upstream {}", name, listen(), upstream());
    }

    /** Closes the listener (new connections are refused) and every live connection, waiting a bounded time. */
    void stop() {
        Channel closing;
        List<Connection> live;
        synchronized (this) {
            enabled = false;
            generation++;
            closing = listener;
            listener = null;
            live = new ArrayList<>(connections);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        if (closing != null) {
            closing.close().awaitUninterruptibly(WAIT_MILLIS);
        }
        List<io.netty.util.concurrent.Future<Void>> closes = new ArrayList<>();
        for (Connection connection : live) {
            closes.add(connection.close());
        }
        for (io.netty.util.concurrent.Future<Void> close : closes) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !close.awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
                LOG.warn("Proxy {}: connections still closing after {} ms", name, WAIT_MILLIS);
                break;
            }
        }
        if (closing != null) {
            LOG.info("Proxy {} stopped", name);
        }
    }

    /**
     * Applies a proxy update: a changed (resolved) listen or upstream restarts the proxy, dropping its
     * connections but keeping its toxics; then the enabled flag is applied.
     */
    void update(String newListen, String newUpstream, boolean newEnabled) throws ApiException {
        String currentListen = listen();
        String resolved = newListen.equals(currentListen)
                ? currentListen : Addresses.format(dataPlane.addresses().resolveListen(newListen));
        if (!resolved.equals(currentListen) || !newUpstream.equals(upstream())) {
            stop();
            synchronized (this) {
                listen = resolved;
                upstream = newUpstream;
            }
        }
        if (newEnabled) {
            start();
        } else if (enabled()) {
            stop();
        }
    }

    /** Whether a populate entry describes this proxy as it is (same resolved listen and upstream). */
    boolean matches(String otherListen, String otherUpstream) throws ApiException {
        if (!otherUpstream.equals(upstream())) {
            return false;
        }
        InetSocketAddress address = dataPlane.addresses().resolveListen(otherListen);
        // A port-0 listen never matches: it asks for a new ephemeral port.
        return address.getPort() != 0 && Addresses.format(address).equals(listen());
    }

    private static String errorText(Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        // Netty's native transport says "bind(..) failed with error(-98): Address already in use"; Go says
        // just the errno text, in lower case.
        if (message.contains("failed")) {
            message = message.substring(message.lastIndexOf(": ") + 2);
        }
        return message.isEmpty() ? message : message.substring(0, 1).toLowerCase(Locale.ROOT) + message.substring(1);
    }

    // ---- connections ----

    private void accept(Channel client, long acceptedBy) {
        Connection connection = new Connection(this, dataPlane, client);
        String dialTo;
        synchronized (this) {
            if (acceptedBy != generation) {
                client.close();
                return;
            }
            connections.add(connection);
            dialTo = upstream;
        }
        dataPlane.metrics().connectionAccepted(name);
        connection.dial(dialTo);
    }

    void unregister(Connection connection) {
        connections.remove(connection);
    }

    synchronized LinkSetup linkSetup() {
        ProxyMetrics metrics = dataPlane.metrics();
        ProxyMetrics.Labels up = new ProxyMetrics.Labels("upstream", listen, name, upstream);
        ProxyMetrics.Labels down = new ProxyMetrics.Labels("downstream", listen, name, upstream);
        return new LinkSetup(snapshot(Direction.UPSTREAM), snapshot(Direction.DOWNSTREAM),
                metrics.received(up), metrics.sent(up), metrics.received(down), metrics.sent(down));
    }

    // ---- toxics ----

    private ToxicSnapshot snapshot(Direction direction) {
        List<ToxicDefinition> chain = new ArrayList<>();
        for (ToxicDefinition definition : toxics) {
            if (definition.direction() == direction) {
                chain.add(definition);
            }
        }
        return new ToxicSnapshot(toxicsVersion, List.copyOf(chain));
    }

    /** Upstream toxics first, then downstream, each in creation order (as Toxiproxy lists them). */
    private List<ToxicDefinition> toxicsInApiOrder() {
        List<ToxicDefinition> ordered = new ArrayList<>(snapshot(Direction.UPSTREAM).definitions());
        ordered.addAll(snapshot(Direction.DOWNSTREAM).definitions());
        return ordered;
    }

    synchronized List<ToxicDefinition> toxics() {
        return toxicsInApiOrder();
    }

    synchronized ToxicDefinition toxic(String toxicName) throws ApiException {
        return find(toxicName);
    }

    private ToxicDefinition find(String toxicName) throws ApiException {
        for (ToxicDefinition definition : toxics) {
            if (definition.name().equals(toxicName)) {
                return definition;
            }
        }
        throw ApiException.toxicNotFound();
    }

    synchronized boolean hasToxic(String toxicName) {
        for (ToxicDefinition definition : toxics) {
            if (definition.name().equals(toxicName)) {
                return true;
            }
        }
        return false;
    }

    void addToxic(ToxicDefinition definition) throws ApiException {
        synchronized (this) {
            if (hasToxic(definition.name())) {
                throw ApiException.toxicExists();
            }
            toxics.add(definition);
            toxicsVersion++;
        }
        applyToLiveConnections();
    }

    ToxicDefinition updateToxic(String toxicName, float toxicity, Toxic toxic) throws ApiException {
        ToxicDefinition updated;
        synchronized (this) {
            ToxicDefinition current = find(toxicName);
            updated = current.withUpdate(toxicity, toxic);
            toxics.set(toxics.indexOf(current), updated);
            toxicsVersion++;
        }
        applyToLiveConnections();
        return updated;
    }

    void removeToxic(String toxicName) throws ApiException {
        synchronized (this) {
            toxics.remove(find(toxicName));
            toxicsVersion++;
        }
        applyToLiveConnections();
    }

    void removeAllToxics() {
        synchronized (this) {
            if (toxics.isEmpty()) {
                return;
            }
            toxics.clear();
            toxicsVersion++;
        }
        applyToLiveConnections();
    }

    /**
     * Brings every live connection in line with the toxics, each on its own event loop, and waits (a
     * bounded time) so that the change is in force on live connections when the API answers.
     */
    private void applyToLiveConnections() {
        ToxicSnapshot up;
        ToxicSnapshot down;
        List<Connection> live;
        synchronized (this) {
            up = snapshot(Direction.UPSTREAM);
            down = snapshot(Direction.DOWNSTREAM);
            live = new ArrayList<>(connections);
        }
        List<Future<?>> pending = new ArrayList<>(live.size());
        for (Connection connection : live) {
            pending.add(connection.eventLoop().submit(() -> connection.sync(up, down)));
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        for (Future<?> change : pending) {
            try {
                change.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                LOG.warn("Proxy {}: toxic change still being applied after {} ms", name, WAIT_MILLIS);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.warn("Proxy {}: toxic change failed on a connection", name, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
