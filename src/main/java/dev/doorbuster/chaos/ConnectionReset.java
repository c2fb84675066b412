package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import eu.rekawek.toxiproxy.model.ToxicDirection;

/**
 * Connections reset by peer: while active, every connection on the target links is reset (TCP RST) as
 * soon as the application sends on it, new ones included. The pool must throw the dead connections away
 * and recover once it ends.
 */
public final class ConnectionReset implements Fault {
    static final String TOXIC = "doorbuster-connection-reset";
    private final LinkTarget target;
    private final List<String> affected = new ArrayList<>();

    public ConnectionReset(LinkTarget target) {
        this.target = target;
    }

    @Override
    public FaultKind kind() {
        return FaultKind.CONNECTION_RESET;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY);
    }

    @Override
    public String describe() {
        return "connections to the " + target + " reset on their next packet";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        affected.addAll(target.proxies(context.topology().links()));
        for (String proxy : affected) {
            context.proxy(proxy).toxics().resetPeer(TOXIC, ToxicDirection.UPSTREAM, 0);
        }
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        Toxics.removeEverywhere(context, affected, TOXIC);
        affected.clear();
    }
}
