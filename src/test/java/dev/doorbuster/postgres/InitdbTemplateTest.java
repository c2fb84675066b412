package dev.doorbuster.postgres;

import dev.doorbuster.process.ServerUser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import dev.doorbuster.process.Dirs;
import dev.doorbuster.process.DoorbusterHome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The per-machine copy of initdb's output: a node made from it starts and serves like one initdb made, the template is
 * made once per combination of version, binaries, arguments and user, a damaged one is made again, and a copy that
 * fails leaves nothing behind so the node falls back to initdb.
 */
class InitdbTemplateTest {
    private final PgBinaries binaries = PgBinaries.resolve();
    private final ServerUser user = ServerUser.detect();
    private Path scratch;
    private final List<PgNode> nodes = new ArrayList<>();

    @BeforeEach
    void scratchFolder() throws IOException {
        // Under the Doorbuster home, which the server user can reach (a JUnit temp folder is root's alone).
        scratch = Files.createDirectories(DoorbusterHome.get().resolve("initdb-template-test-" + UUID.randomUUID()));
        user.own(scratch);
    }

    @AfterEach
    void removeScratch() throws IOException {
        nodes.forEach(PgNode::stop);
        Dirs.deleteTree(scratch);
    }

    @Test
    void aNodeMadeFromTheTemplateStartsWithItsOwnSettingsAndServes() throws IOException {
        PgNode node = new PgNode("pgt", binaries, user, scratch.resolve("pgt"), 0, null);
        nodes.add(node);
        node.init(Map.of("work_mem", "7MB"));
        node.start();
        assertEquals("7MB", node.queryValue("SHOW work_mem", String.class), "settings are written onto the copy");
        node.execute("CREATE TABLE t (id int)");
        node.execute("INSERT INTO t VALUES (1)");
        assertEquals(1L, node.queryValue("SELECT count(*) FROM t", Long.class));
        assertTrue(Files.readString(scratch.resolve("pgt").resolve("initdb.log")).contains("initdb template"),
                "the node's initdb.log says it is a copy");
    }

    @Test
    void eachVersionBinariesArgumentsAndUserHaveTheirOwnTemplate() {
        InitdbTemplate plain = new InitdbTemplate(binaries, user, PgNode.INITDB_ARGUMENTS, scratch);
        List<String> otherArguments = new ArrayList<>(PgNode.INITDB_ARGUMENTS);
        otherArguments.add("--data-checksums");
        InitdbTemplate checksums = new InitdbTemplate(binaries, user, otherArguments, scratch);
        assertNotEquals(plain.folder(), checksums.folder());
        assertTrue(plain.key().contains("version=" + binaries.version()), plain.key());
        assertTrue(plain.key().contains("user=" + user.name()), plain.key());
        assertTrue(plain.folder().getFileName().toString().startsWith("initdb-" + binaries.version() + "-"));
    }

    @Test
    void aTemplateIsMadeOnceAndADamagedOneIsMadeAgain() throws IOException {
        InitdbTemplate template = new InitdbTemplate(binaries, user, PgNode.INITDB_ARGUMENTS, scratch.resolve("t"));
        assertTrue(template.copyInto(nodeDir("a").resolve("data"), scratch).isPresent());
        Path marker = template.folder().resolve(InitdbTemplate.COMPLETE);
        long made = Files.getLastModifiedTime(marker).toMillis();
        assertTrue(template.copyInto(nodeDir("b").resolve("data"), scratch).isPresent());
        assertEquals(made, Files.getLastModifiedTime(marker).toMillis(), "the second copy reused the template");

        Files.delete(template.folder().resolve("data").resolve("PG_VERSION")); // damaged
        assertTrue(template.copyInto(nodeDir("c").resolve("data"), scratch).isPresent());
        assertTrue(Files.isRegularFile(nodeDir("c").resolve("data").resolve("PG_VERSION")), "made again, complete");
        Files.writeString(marker, "version=another\n"); // a template of something else in its place
        assertTrue(template.copyInto(nodeDir("d").resolve("data"), scratch).isPresent());
        assertEquals(template.key(), Files.readString(marker));
    }

    @Test
    void aCopyThatFailsLeavesNothingBehind() throws IOException {
        InitdbTemplate template = new InitdbTemplate(binaries, user, PgNode.INITDB_ARGUMENTS, scratch.resolve("t"));
        assertTrue(template.copyInto(nodeDir("a").resolve("data"), scratch).isPresent());
        // The template is still "complete", but its files cannot be read by the server user any more.
        Path unreadable = template.folder().resolve("data").resolve("global");
        Files.move(unreadable, template.folder().resolve("global-moved"));
        Files.writeString(unreadable, "not a folder");
        Files.setPosixFilePermissions(unreadable, java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
        Path target = nodeDir("b").resolve("data");
        Optional<String> copied = template.copyInto(target, scratch);
        assertTrue(copied.isEmpty(), "the copy cannot read the template's files");
        assertFalse(Files.exists(target), "a half-made copy is removed, so initdb can run there");
    }

    private Path nodeDir(String name) throws IOException {
        Path dir = Files.createDirectories(scratch.resolve(name));
        user.own(dir);
        return dir;
    }
}
