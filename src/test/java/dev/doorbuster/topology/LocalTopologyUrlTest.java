package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The storefront's reader URLs: replicas first, the primary last; one URL with one replica (as it always
 * was), one URL per replica with several (the storefront then picks a reader pool per read).
 */
class LocalTopologyUrlTest {
    private static final String PARAMS = "/storefront?targetServerType=preferSecondary"
            + "&sslmode=disable&connectTimeout=2&socketTimeout=10&loginTimeout=5&hostRecheckSeconds=1";

    @Test
    void oneReplicaKeepsTheUrlAsItWas() {
        assertEquals(List.of("jdbc:postgresql://127.0.0.1:2002,127.0.0.1:2001" + PARAMS),
                StorefrontLaunch.readerUrls(List.of("127.0.0.1:2002"), "127.0.0.1:2001"));
        assertEquals(List.of("jdbc:postgresql://127.0.0.1:2001" + PARAMS),
                StorefrontLaunch.readerUrls(List.of(), "127.0.0.1:2001"), "no replica: the primary");
    }

    @Test
    void severalReplicasGetOneUrlEachFallingBackToThePrimary() {
        List<String> urls = StorefrontLaunch.readerUrls(List.of("127.0.0.1:2002", "127.0.0.1:2003"), "127.0.0.1:2001");
        assertEquals(List.of("jdbc:postgresql://127.0.0.1:2002,127.0.0.1:2001" + PARAMS,
                "jdbc:postgresql://127.0.0.1:2003,127.0.0.1:2001" + PARAMS), urls);
        urls.forEach(url -> assertFalse(url.contains("loadBalanceHosts"), url));
    }
}
