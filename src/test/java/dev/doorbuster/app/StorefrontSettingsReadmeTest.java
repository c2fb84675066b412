package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** README's storefront settings table is {@link StorefrontSetting#markdownTable()}, character for character. */
class StorefrontSettingsReadmeTest {
    private static final String BEGIN = "<!-- storefront-settings: generated from StorefrontSetting.markdownTable() -->\n";
    private static final String END = "<!-- /storefront-settings -->";

    @Test
    void readmeTableMatchesTheDefinition() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int begin = readme.indexOf(BEGIN);
        int end = readme.indexOf(END);
        assertTrue(begin >= 0 && end > begin, "README.md must hold the settings table between " + BEGIN.strip()
                + " and " + END);
        String expected = StorefrontSetting.markdownTable();
        assertEquals(expected, readme.substring(begin + BEGIN.length(), end),
                "README.md's storefront settings table differs from StorefrontSetting; paste this between the markers:\n"
                        + expected);
    }
}
