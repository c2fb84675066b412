package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.Set;

import dev.doorbuster.topology.Fleet;

/**
 * The autoscaler reacts to the spike: more instances of the service start, each opening its own pools at once, while
 * the load goes on. Not a failure in itself; what it sets off may be one: pools that together want more connections
 * than the database takes (the storm of "too many clients"), a pooler that runs out of room. The instances stay until
 * the run ends, as a scale-in would come long after the spike.
 */
public final class ScaleOut implements Fault {
    private final int more;

    private ScaleOut(int more) {
        if (more < 1) {
            throw new IllegalArgumentException("ScaleOut adds at least 1 instance, not " + more);
        }
        this.more = more;
    }

    /** Adds {@code more} instances to the fleet ({@code app.instances} must be over 1: the fleet has a balancer). */
    public static ScaleOut instances(int more) {
        return new ScaleOut(more);
    }

    @Override
    public FaultKind kind() {
        return FaultKind.SCALE_OUT;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.FLEET);
    }

    @Override
    public String describe() {
        return more + (more == 1 ? " instance" : " instances") + " added to the fleet";
    }

    @Override
    public void inject(ChaosContext context) {
        Fleet fleet = context.fleet(this);
        int before = fleet.instances();
        long started = System.nanoTime();
        fleet.scaleOut(more);
        context.effect("fleet grew from " + before + " to " + fleet.instances() + " instances in "
                + (System.nanoTime() - started) / 1_000_000 + " ms (each serving once its pools were opened)");
    }

    @Override
    public void heal(ChaosContext context) {
        // Nothing to undo: the added instances serve until the run ends.
    }
}
