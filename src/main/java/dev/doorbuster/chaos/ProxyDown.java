package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * A database host unreachable: the target links refuse new connections and every live one is closed
 * (the proxy is disabled). Down replicas should leave reads to the primary; a down primary means writes
 * fail fast with a clear error, not hang.
 */
public final class ProxyDown implements Fault {
    private final LinkTarget target;
    private final List<String> affected = new ArrayList<>();

    public ProxyDown(LinkTarget target) {
        this.target = target;
    }

    @Override
    public FaultKind kind() {
        return FaultKind.PROXY_DOWN;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY);
    }

    @Override
    public String describe() {
        return "database links to the " + target + " down (connections refused)";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        affected.addAll(target.proxies(context.topology().links()));
        for (String proxy : affected) {
            context.proxy(proxy).disable();
        }
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        for (String proxy : affected) {
            context.proxy(proxy).enable();
        }
        affected.clear();
    }
}
