package dev.doorbuster.proxy.toxics;

import java.util.Map;

/**
 * One kind of network fault with its attribute values, as configured through the API.
 *
 * <p>Instances are immutable: an update of a toxic builds a new instance. A toxic acts on one
 * direction of one connection (a link) through the {@link Pipe} it {@linkplain #start starts} there,
 * so a single configured toxic serves every live connection of its proxy.
 */
public interface Toxic {

    /** The API's type name, for example {@code latency}. */
    String type();

    /** Attribute names and values in the order the API shows them. Every attribute is an integer. */
    Map<String, Long> attributes();

    /**
     * State this toxic keeps per link across updates of its attributes (for example the bytes that
     * {@code limit_data} already let through), or null if it keeps none.
     */
    default Object newLinkState() {
        return null;
    }

    /**
     * Whether taking this toxic off a link on which it acted must close that connection, because the
     * bytes it dropped leave the stream corrupt ({@code timeout}).
     */
    default boolean closesConnectionWhenRemoved() {
        return false;
    }

    /**
     * Starts acting on one link. Called on the link's event loop; every call into the returned pipe
     * comes from that same thread, so a pipe needs no locking.
     *
     * @param stub the link-side handle the pipe sends to
     * @param linkState the object {@link #newLinkState()} made for this link, or null
     */
    Pipe start(ToxicStub stub, Object linkState);
}
