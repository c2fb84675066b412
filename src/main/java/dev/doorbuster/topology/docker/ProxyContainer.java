package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.proxy.ToxiproxyServer;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.TopologyException;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.testcontainers.containers.Network;
import org.testcontainers.toxiproxy.ToxiproxyContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The chaos proxy container every database link goes through: Doorbuster's own proxy or a Toxiproxy image,
 * driven only through the Toxiproxy API. Each proxy listens on its own port of the range the container
 * publishes (8666-8697), reachable as {@code toxiproxy:<port>} inside the run's network and on a published
 * 127.0.0.1 port from here.
 */
final class ProxyContainer {
    static final String ALIAS = "toxiproxy";
    private static final int FIRST_PORT = 8666;
    private static final int LAST_PORT = 8697;

    private final ToxiproxyContainer container;
    private final ToxiproxyClient client;
    private final URI apiUrl;
    private final Map<String, Integer> ports = new LinkedHashMap<>();

    private ProxyContainer(ToxiproxyContainer container) {
        this.container = container;
        this.apiUrl = URI.create("http://127.0.0.1:" + container.getControlPort());
        this.client = new ToxiproxyClient("127.0.0.1", container.getControlPort());
    }

    static ProxyContainer start(DockerClient docker, Environment.Docker settings, Network network, RunResources run,
                                Duration startTimeout) {
        String image = settings.doorbusterProxy() ? RuntimeImage.ensure(docker, settings.javaImage()) : settings.proxyImage();
        ToxiproxyContainer proxy = new ToxiproxyContainer(DockerImageName.parse(image)
                .asCompatibleSubstituteFor("shopify/toxiproxy"));
        if (settings.doorbusterProxy()) {
            // The proxy's own entry point: topology may name proxy's classes, never the command line's (cli).
            proxy.withCommand("java", "-XX:+UseSerialGC", "-Xmx256m", "-cp", RuntimeImage.CLASSPATH,
                    ToxiproxyServer.class.getName(), "-host", "0.0.0.0", "-port", "8474");
        }
        proxy.withNetwork(network)
                .withNetworkAliases(ALIAS)
                .withLabels(run.labels())
                .withStartupTimeout(startTimeout)
                .withCreateContainerCmdModifier(cmd -> cmd.withName(run.name("proxy")));
        try {
            proxy.start();
        } catch (RuntimeException e) {
            String logs = Containers.logTail(proxy, 25);
            Containers.stopQuietly(proxy);
            throw new TopologyException("The proxy container (" + image + ", docker.proxyImage) did not start: "
                    + Containers.rootMessage(e) + (logs.isEmpty() ? "" : "\nLast lines of its log:\n" + logs));
        }
        return new ProxyContainer(proxy);
    }

    URI apiUrl() {
        return apiUrl;
    }

    String image() {
        return container.getDockerImageName();
    }

    /**
     * Creates proxy {@code name} → {@code upstream} ({@code host:port} inside the network), or repoints it.
     *
     * @return the port it listens on inside the network
     */
    synchronized int proxy(String name, String upstream) {
        try {
            Proxy existing = client.getProxyOrNull(name);
            if (existing != null) {
                if (!existing.getUpstream().equals(upstream)) {
                    existing.setUpstream(upstream);
                }
                return ports.get(name);
            }
            int port = FIRST_PORT + ports.size();
            if (port > LAST_PORT) {
                throw new TopologyException("The proxy container publishes ports " + FIRST_PORT + "-" + LAST_PORT
                        + " only; proxy '" + name + "' would need one more (fewer postgres.replicas).");
            }
            client.createProxy(name, "0.0.0.0:" + port, upstream);
            ports.put(name, port);
            return port;
        } catch (IOException e) {
            throw new TopologyException("Cannot create or update proxy '" + name + "' at " + apiUrl + ": " + e.getMessage());
        }
    }

    /** Where proxy {@code name} is reached inside the run's network. */
    synchronized String internalAddress(String name) {
        return ALIAS + ":" + port(name);
    }

    /** Where proxy {@code name} is reached from this machine. */
    synchronized String hostAddress(String name) {
        return "127.0.0.1:" + container.getMappedPort(port(name));
    }

    private int port(String name) {
        Integer port = ports.get(name);
        if (port == null) {
            throw new TopologyException("No proxy '" + name + "' in the proxy container; proxies: " + ports.keySet());
        }
        return port;
    }

    String logs() {
        return Containers.logs(container);
    }

    void stop() {
        Containers.stopQuietly(container);
    }
}
