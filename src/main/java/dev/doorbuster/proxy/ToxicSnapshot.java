package dev.doorbuster.proxy;

import java.util.List;

/**
 * The toxics of one direction of a proxy at one moment, in creation order.
 *
 * @param version grows with every change to the proxy's toxics, so a link applies only news, never a
 *     snapshot older than the one it was built from
 */
record ToxicSnapshot(long version, List<ToxicDefinition> definitions) {
}
