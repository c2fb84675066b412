package dev.doorbuster.proxy;

import dev.doorbuster.proxy.toxics.Toxic;

/**
 * A toxic as configured on a proxy. Immutable: an update makes a new definition with the same id.
 *
 * @param id unique for the life of the server; kept by updates, new when a toxic is (re)created,
 *     so a link can tell an update of its toxic from a new toxic that reuses the name
 * @param stream the stream name exactly as the client sent it (echoed back as is)
 * @param toxicity the probability the toxic acts on a given link, as a 32-bit float like Toxiproxy's
 */
record ToxicDefinition(long id, String name, String stream, Direction direction, float toxicity, Toxic toxic) {

    String type() {
        return toxic.type();
    }

    ToxicDefinition withUpdate(float newToxicity, Toxic newToxic) {
        return new ToxicDefinition(id, name, stream, direction, newToxicity, newToxic);
    }
}
