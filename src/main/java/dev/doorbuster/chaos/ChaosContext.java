package dev.doorbuster.chaos;

import java.io.IOException;
import java.net.URI;

import dev.doorbuster.topology.CacheTier;
import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.Fleet;
import dev.doorbuster.topology.PoolerTier;
import dev.doorbuster.topology.Topology;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;

/** What faults act through: the topology, its Toxiproxy API, the timeline and the write probe. */
public final class ChaosContext {
    private final Topology topology;
    private final ToxiproxyClient toxiproxy;
    private final FaultTimeline timeline;
    private final WriteProbe writeProbe;
    private final String faultLabel;

    public ChaosContext(Topology topology, FaultTimeline timeline, WriteProbe writeProbe) {
        this(topology, apiClient(topology), timeline, writeProbe, null);
    }

    private ChaosContext(Topology topology, ToxiproxyClient toxiproxy, FaultTimeline timeline, WriteProbe writeProbe,
                         String faultLabel) {
        this.topology = topology;
        this.toxiproxy = toxiproxy;
        this.timeline = timeline;
        this.writeProbe = writeProbe;
        this.faultLabel = faultLabel;
    }

    private static ToxiproxyClient apiClient(Topology topology) {
        URI api = topology.toxiproxyUrl();
        return api == null ? null : new ToxiproxyClient(api.getHost(), api.getPort());
    }

    /** This context as seen by one fault instance: its effects go to the timeline under {@code label}. */
    public ChaosContext forFault(String label) {
        return new ChaosContext(topology, toxiproxy, timeline, writeProbe, label);
    }

    /** Records a measured effect of the current fault (the RTO, the lag reached), with what it means. */
    public void effect(String message, FaultEffect effect) {
        timeline.add(faultLabel == null ? "?" : faultLabel, FaultTimeline.Kind.EFFECT, message, effect);
    }

    /** Records something the current fault did that has no number the verdict reads (a promotion, a rejoin). */
    public void effect(String message) {
        effect(message, null);
    }

    public Topology topology() {
        return topology;
    }

    public FaultTimeline timeline() {
        return timeline;
    }

    public WriteProbe writeProbe() {
        return writeProbe;
    }

    /** The proxy {@code name}; fails with a clear message if the Toxiproxy API lacks it. */
    public Proxy proxy(String name) throws IOException {
        if (toxiproxy == null) {
            throw noProxy();
        }
        return toxiproxy.getProxy(name);
    }

    private FaultRefusedException noProxy() {
        return new FaultRefusedException("Environment '" + topology.environment().name() + "' has no chaos proxy "
                + "(proxy.url), so no network fault can be injected.");
    }

    /** Refuses {@code fault} unless the environment allows it. */
    public void require(Fault fault) {
        if (!topology.allows(fault.name())) {
            throw new FaultRefusedException("Environment '" + topology.environment().name() + "' does not allow fault "
                    + fault.name() + " (" + fault.describe() + "). Add \"" + fault.name() + "\" to allowFaults in "
                    + topology.environment().source() + " if this environment can take it.");
        }
    }

    /**
     * Refuses {@code fault} unless the environment allows it and gives everything it says it needs
     * ({@link Fault#needs()}): a chaos proxy, a replication link to act on, control of the cluster.
     */
    public void check(Fault fault) {
        require(fault);
        for (Fault.Need need : fault.needs()) {
            switch (need) {
                case PROXY -> {
                    if (toxiproxy == null) {
                        throw noProxy();
                    }
                }
                case REPLICATION_LINK -> {
                    if (topology.links().replication().isEmpty()) {
                        throw new FaultRefusedException(fault.name() + ": environment '" + topology.environment().name()
                                + "' names no replication link proxy (proxy.proxies.replication), so there is no "
                                + "replication stream to act on.");
                    }
                }
                case CLUSTER_CONTROL -> cluster(fault);
                case CACHE -> {
                    cache(fault);
                    if (fault.needs().contains(Fault.Need.PROXY)) {
                        cacheProxyName(fault);
                    }
                }
                case POOLER -> pooler(fault);
                case FLEET -> fleet(fault);
            }
        }
    }

    /** The fleet, for the faults that grow it; refuses when the service runs as one instance or is not started here. */
    public Fleet fleet(Fault fault) {
        return topology.fleet().orElseThrow(() -> new FaultRefusedException(fault.name() + " grows the fleet of the "
                + "service's instances, which environment '" + topology.environment().name() + "' does not run: set "
                + "app.instances to 2 or more in " + topology.environment().source() + " (or -Dapp.instances=2; local "
                + "environments only)."));
    }

    /** The pooler tier, for the pooler's faults; refuses when the environment has none. */
    public PoolerTier pooler(Fault fault) {
        return topology.pooler().orElseThrow(() -> new FaultRefusedException(fault.name() + " acts on the pooler tier, "
                + "which environment '" + topology.environment().name() + "' does not have: set postgres.pooler to \""
                + Environment.Postgres.PGBOUNCER + "\" in " + topology.environment().source() + " (or -Dpostgres.pooler="
                + Environment.Postgres.PGBOUNCER + ")."));
    }

    /** The cache tier, for the cache's faults; refuses when the environment has none. */
    public CacheTier cache(Fault fault) {
        return topology.cache().orElseThrow(() -> new FaultRefusedException(fault.name() + " acts on the cache tier, "
                + "which environment '" + topology.environment().name() + "' does not have: set app.cache to true in "
                + topology.environment().source() + " (or -Dapp.cache=true)."));
    }

    /**
     * The name of the chaos proxy on the application's link to the cache ({@link CacheTier#proxyName()}), for the
     * cache's network faults; refuses when the environment has no cache tier or names no proxy on that link.
     */
    public String cacheProxyName(Fault fault) {
        String name = cache(fault).proxyName();
        if (name == null || name.isBlank()) {
            throw new FaultRefusedException(fault.name() + ": environment '" + topology.environment().name() + "' names "
                    + "no proxy on the application's link to its cache (proxy.proxies.cache in "
                    + topology.environment().source() + "), so there is no cache link to act on.");
        }
        return name;
    }

    /** The cluster, for faults that need cluster control; refuses otherwise. */
    public ClusterControl cluster(Fault fault) {
        return topology.clusterControl().orElseThrow(() -> new FaultRefusedException(fault.name() + " needs control of the "
                + "PostgreSQL cluster (kill, promote, rejoin), which environment '" + topology.environment().name()
                + "' does not give: it is external. Run it on a local environment."));
    }
}
