package dev.doorbuster.proxy.toxics;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A toxic type as the API knows it: its name, its attributes in JSON order, and how to build an
 * instance from attribute values.
 *
 * @param type the API's type name (case-sensitive)
 * @param attributeNames attribute names in the order the API shows them
 * @param factory builds a toxic from a value for every attribute; throws {@link IllegalArgumentException}
 *     with a message naming the attribute when a value is out of range
 */
public record ToxicKind(String type, List<String> attributeNames, Function<Map<String, Long>, Toxic> factory) {

    public Toxic create(Map<String, Long> attributes) {
        return factory.apply(attributes);
    }
}
