package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The storefront's reader URL: replicas first, the primary last, spread over replicas only when there are several. */
class LocalTopologyUrlTest {
    @Test
    void oneReplicaKeepsTheUrlAsItWas() {
        assertEquals("jdbc:postgresql://127.0.0.1:2002,127.0.0.1:2001/storefront?targetServerType=preferSecondary"
                        + "&sslmode=disable&connectTimeout=2&socketTimeout=10&loginTimeout=5&hostRecheckSeconds=1",
                LocalTopology.readerUrl(List.of("127.0.0.1:2002"), "127.0.0.1:2001"));
        assertFalse(LocalTopology.readerUrl(List.of(), "127.0.0.1:2001").contains("loadBalanceHosts"), "no replica");
    }

    @Test
    void severalReplicasAreLoadBalanced() {
        String url = LocalTopology.readerUrl(List.of("127.0.0.1:2002", "127.0.0.1:2003"), "127.0.0.1:2001");
        assertTrue(url.startsWith("jdbc:postgresql://127.0.0.1:2002,127.0.0.1:2003,127.0.0.1:2001/storefront?"
                + "targetServerType=preferSecondary&"), url);
        assertTrue(url.endsWith("&loadBalanceHosts=true"), url);
    }
}
