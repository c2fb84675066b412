package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * The settings table of docs/storefront.md is {@link StorefrontSetting#markdownTable()}, character for character,
 * so the page says exactly what the storefront and the environment files accept.
 */
class StorefrontSettingsDocTest {
    static final Path PAGE = Path.of("docs", "storefront.md");
    private static final String BEGIN = "<!-- storefront-settings: generated from StorefrontSetting.markdownTable() -->\n";
    private static final String END = "<!-- /storefront-settings -->";

    @Test
    void thePagesTableMatchesTheDefinition() throws Exception {
        String page = Files.readString(PAGE);
        int begin = page.indexOf(BEGIN);
        int end = page.indexOf(END);
        assertTrue(begin >= 0 && end > begin, PAGE + " must hold the settings table between " + BEGIN.strip()
                + " and " + END);
        String expected = StorefrontSetting.markdownTable();
        assertEquals(expected, page.substring(begin + BEGIN.length(), end),
                PAGE + "'s storefront settings table differs from StorefrontSetting; paste this between the markers:\n"
                        + expected);
    }
}
