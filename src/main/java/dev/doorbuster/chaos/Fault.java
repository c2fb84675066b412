package dev.doorbuster.chaos;

import java.util.Set;

/**
 * One kind of trouble for the system under test, driven only through the Toxiproxy API and cluster
 * operations. {@link #inject} starts it; {@link #heal} ends it and must be safe to call even if inject
 * failed half-way (the run always heals everything at the end, also when it fails).
 */
public interface Fault {
    /** What a fault needs from the environment; {@link ChaosRunner#checkAllowed()} refuses it before anything starts otherwise. */
    enum Need {
        /** A chaos proxy (a Toxiproxy API, {@code proxy.url}) on the database links. */
        PROXY,
        /** A proxy on each replica's replication stream ({@code proxy.proxies.replication}). */
        REPLICATION_LINK,
        /** Control of the PostgreSQL cluster: kill, promote, rejoin (local and docker environments only). */
        CLUSTER_CONTROL,
        /**
         * A cache tier ({@code app.cache}): the harness's own way in, and (with {@link #PROXY}) the chaos proxy on the
         * application's link to it.
         */
        CACHE,
        /** A pooler tier ({@code postgres.pooler}) the harness controls through its admin console. */
        POOLER,
        /** A fleet of the service's instances behind a balancer ({@code app.instances} over 1) the harness can grow. */
        FLEET
    }

    /** The fault's kind: its name in environments' {@code allowFaults}. */
    FaultKind kind();

    /** What it needs from the environment to be injected. */
    Set<Need> needs();

    /** The fault's kind, as listed in environments' {@code allowFaults} ({@code ReplicationLag}, ...). */
    default String name() {
        return kind().label();
    }

    /** What it does, with its parameters, for the timeline and reports. */
    String describe();

    void inject(ChaosContext context) throws Exception;

    void heal(ChaosContext context) throws Exception;
}
