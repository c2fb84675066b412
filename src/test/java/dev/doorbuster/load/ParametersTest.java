package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Simulation parameters: defaults, good values, and a message naming the property for every bad one. */
class ParametersTest {
    @AfterEach
    void clear() {
        for (String p : List.of("doorbusters.count", "doorbusters.stock", "doorbusters.share")) {
            System.clearProperty(p);
        }
    }

    @Test
    void doorbustersComeFromParametersWithTheSimulationsDefaults() {
        assertEquals(new Doorbusters(3, 10, 0.5), Doorbusters.fromParameters());
        System.setProperty("doorbusters.count", "0");
        System.setProperty("doorbusters.share", "1");
        assertEquals(new Doorbusters(0, 40, 1.0), Doorbusters.fromParameters(2, 40, 0.8));
        assertEquals(List.of(), new Doorbusters(0, 40, 1.0).productIds());
        assertEquals(List.of(1L, 2L), new Doorbusters(2, 40, 1.0).productIds());
    }

    @Test
    void badValuesNameThePropertyAndWhatItTakes() {
        for (String[] bad : new String[][] {{"doorbusters.share", "1.5", "a share between 0 and 1"},
                {"doorbusters.share", "half", "a share between 0 and 1"}, {"doorbusters.count", "-1", "a whole number ≥ 0"},
                {"doorbusters.count", "2.5", "a whole number ≥ 0"}, {"doorbusters.stock", "lots", "a whole number ≥ 0"}}) {
            System.setProperty(bad[0], bad[1]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Doorbusters::fromParameters);
            assertEquals("-D" + bad[0] + "=" + bad[1] + " is not " + bad[2] + " (e.g. -D" + bad[0] + "="
                    + (bad[0].endsWith("share") ? "0.5" : bad[0].endsWith("count") ? "3" : "10") + ")", e.getMessage());
            System.clearProperty(bad[0]);
        }
        assertThrows(IllegalArgumentException.class, () -> new Doorbusters(1, 1, Double.NaN));
    }
}
