package dev.doorbuster.topology;

/**
 * The service's instances behind one balancer ({@code app.instances} over 1): an autoscaled fleet, which can grow
 * while the load runs, as an autoscaler adds instances in the middle of a spike.
 */
public interface Fleet {
    /** Instances serving now. */
    int instances();

    /**
     * Starts {@code more} instances, one after the other, each with its own pools, and gives each its share of new
     * connections once it listens; returns when all of them serve.
     *
     * @throws TopologyException when one cannot start (its log's end says why); those started before it keep serving
     */
    void scaleOut(int more);
}
