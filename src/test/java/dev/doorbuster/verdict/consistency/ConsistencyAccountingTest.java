package dev.doorbuster.verdict.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultTimeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The consistency accounting's own logic: session guarantees, stale versus lost, the audit's classes, stock. */
class ConsistencyAccountingTest {
    @TempDir
    Path dir;

    private final long start = System.nanoTime();
    private final ConsistencyLog log = new ConsistencyLog(() -> start);

    @Test
    void theFirstReadAfterAWriteIsImmediateTheRestLater() {
        SessionGuarantees s = log.session(1);
        s.acknowledged("user:7", "w1", Observation.of(5, "Ada w1"), 1.0);
        assertEquals(List.of(Guarantee.READ_YOUR_WRITES_IMMEDIATE),
                guarantees(s.read("profile", "user:7", "read back", Observation.of(4, "Ada w0"), "replica", 1.1)));
        assertEquals(List.of(), s.read("profile", "user:7", "come back", Observation.of(5, "Ada w1"), "replica", 3.0));
        assertEquals(List.of(Guarantee.READ_YOUR_WRITES_LATER, Guarantee.MONOTONIC_READS),
                guarantees(s.read("profile", "user:7", "come back", Observation.of(4, "Ada w0"), "replica", 4.0)),
                "later, older than the own write and than what was already read");
        assertEquals(1, log.violations(Guarantee.READ_YOUR_WRITES_IMMEDIATE));
        assertEquals(1, log.violations(Guarantee.READ_YOUR_WRITES_LATER));
        assertEquals(1, log.violations(Guarantee.MONOTONIC_READS));
        assertEquals(1, log.reads(Guarantee.READ_YOUR_WRITES_IMMEDIATE));
        assertEquals(2, log.reads(Guarantee.READ_YOUR_WRITES_LATER));
    }

    @Test
    void theSameVersionHoldingAnotherStateIsAForkNotTheSameData() {
        SessionGuarantees s = log.session(1);
        s.acknowledged("user:7", "w1", Observation.of(5, "Ada w1"), 1.0);
        // A promoted replica lost w1 and gave version 5 to someone else's update: the version alone would pass.
        assertEquals(List.of(Guarantee.READ_YOUR_WRITES_IMMEDIATE),
                guarantees(s.read("profile", "user:7", "read back", Observation.of(5, "Bob w9"), "primary", 2.0)));
        assertEquals(List.of(), s.read("profile", "user:7", "x", Observation.of(6, "Bob w10"), "primary", 3.0),
                "newer than the own write: fine");
    }

    @Test
    void monotonicReadsApplyToKeysOnlySeenAndAbsenceIsOlderThanAnything() {
        SessionGuarantees s = log.session(2);
        assertEquals(List.of(), s.read("order", "order:k", "page", Observation.of(1, "k"), "replica", 1.0));
        assertEquals(List.of(Guarantee.MONOTONIC_READS),
                guarantees(s.read("order", "order:k", "list", Observation.absent(), "replica", 2.0)));
        assertTrue(Observation.of(0, null).atLeast(Observation.absent()));
        assertTrue(!Observation.absent().atLeast(Observation.of(0, "")), "a created, empty cart is newer than none");
    }

    @Test
    void aStaleReadOfALostWriteIsCountedAsLostNotStale() {
        SessionGuarantees s = log.session(3);
        log.ledger().record(new WriteLedger.Write("profile update", "user:9", "w-lost", 3, 1.0, 1.1,
                WriteLedger.Outcome.ACKNOWLEDGED, Observation.of(5, "Cy w-lost"), "Cy w-lost"));
        s.acknowledged("user:9", "w-lost", Observation.of(5, "Cy w-lost"), 1.1);
        s.read("profile", "user:9", "read back", Observation.of(5, "Cy w-lost"), "primary", 1.2);
        s.read("profile", "user:9", "come back", Observation.of(4, "Cy w-old"), "primary", 9.0); // after the failover
        SessionGuarantees other = log.session(4);
        other.acknowledged("user:10", "w-kept", Observation.of(2, "Di w-kept"), 1.0);
        other.read("profile", "user:10", "read back", Observation.of(1, "Di w-seed"), "replica", 1.1); // truly stale

        WriteLedger.Audit audit = new WriteLedger.Audit(List.of(), null, Set.of("w-lost"));
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        SessionReport report = log.report(audit, timeline);
        SessionReport.GuaranteeResult later = report.result(Guarantee.READ_YOUR_WRITES_LATER);
        assertEquals(0, later.violations(), "explained by the lost write");
        assertEquals(1, later.explainedByLostWrites());
        SessionReport.GuaranteeResult monotonic = report.result(Guarantee.MONOTONIC_READS);
        assertEquals(0, monotonic.violations(), "the newest state seen came from the lost write too");
        assertEquals(1, monotonic.explainedByLostWrites());
        SessionReport.GuaranteeResult immediate = report.result(Guarantee.READ_YOUR_WRITES_IMMEDIATE);
        assertEquals(1, immediate.violations(), "a stale read of a write that survived stays a stale read");
        SessionReport.Witness w = immediate.witnesses().get(0);
        assertEquals("user:10", w.key());
        assertEquals("replica", w.servedBy());
        assertTrue(w.expected().contains("Di w-kept") && w.observed().contains("Di w-seed"), w.toString());
        assertEquals("w-lost", report.explained().get(0).lostWrite());
        assertEquals(2, report.explainedByLostWrites());
    }

    @Test
    void theAuditTellsLostInDoubtAndGhostsApart() {
        List<WriteLedger.Write> writes = List.of(
                write("a1", WriteLedger.Outcome.ACKNOWLEDGED), write("a2", WriteLedger.Outcome.ACKNOWLEDGED),
                write("d1", WriteLedger.Outcome.IN_DOUBT), write("d2", WriteLedger.Outcome.IN_DOUBT),
                write("f1", WriteLedger.Outcome.FAILED), write("f2", WriteLedger.Outcome.FAILED));
        java.util.HashSet<String> absent = new java.util.HashSet<>();
        WriteLedger.KindAudit k = WriteLedger.classify("order", writes, Set.of("a1", "d1", "f2"), absent);
        assertEquals(2, k.acknowledged());
        assertEquals(1, k.lost());
        assertEquals("a2", k.lostWrites().get(0).id());
        assertEquals(2, k.inDoubt());
        assertEquals(1, k.inDoubtCommitted());
        assertEquals(1, k.ghosts(), "answered with an error, committed all the same");
        assertEquals("f2", k.ghostWrites().get(0).id());
        assertEquals(Set.of("a2", "d2"), absent, "in-doubt writes that did not commit explain stale reads too");

        WriteLedger.KindAudit unknown = WriteLedger.classify("order", writes, null, new java.util.HashSet<>());
        assertEquals(-1, unknown.lost(), "a failed lookup never reads as zero lost");
    }

    @Test
    void aKindWithoutALookupIsAnAuditErrorNotZeroLost() {
        log.ledger().record(write("a1", WriteLedger.Outcome.ACKNOWLEDGED));
        WriteLedger.Audit audit = log.ledger().audit(Map.of(), new WriteLookup.Target("jdbc:none", "u", "", null));
        assertTrue(audit.error().contains("no lookup declared for writes of kind 'order'"), audit.error());
        assertEquals(-1, audit.lost());
    }

    @Test
    void stockLeavesOnlyWithAnOrder() {
        Inventory inventory = log.inventory();
        inventory.doorbusters(Set.of(1L));
        inventory.attempted("o1", Map.of(1L, 2));
        inventory.attempted("o2", Map.of(1L, 1));
        inventory.attempted("o3", Map.of(2L, 1)); // lost in a failover: its stock decrement is lost with it
        inventory.attempted("o4", Map.of(1L, 1)); // in doubt, committed
        inventory.outOfStock();
        WriteLedger ledger = log.ledger();
        ledger.record(write("o1", WriteLedger.Outcome.ACKNOWLEDGED));
        ledger.record(write("o2", WriteLedger.Outcome.ACKNOWLEDGED));
        ledger.record(write("o3", WriteLedger.Outcome.ACKNOWLEDGED));
        ledger.record(write("o4", WriteLedger.Outcome.IN_DOUBT));
        WriteLedger.Audit audit = new WriteLedger.Audit(List.of(), null, Set.of("o3"));

        Inventory.StockAudit good = inventory.evaluate(Map.of(1L, 4L, 2L, 5L), Map.of(1L, 0L, 2L, 5L), ledger, audit);
        assertEquals(0, good.broken(), good.toString());
        assertEquals(1, good.soldOut());
        assertEquals(1, good.outOfStockAnswers());
        assertEquals(new Inventory.ProductStock(1, 4, 0, 3, 1, 4), good.doorbusters().get(0));

        // Two checkouts read the same stock and both wrote back their own result: one unit sold twice.
        Inventory.StockAudit oversold = inventory.evaluate(Map.of(1L, 4L, 2L, 5L), Map.of(1L, 1L, 2L, 5L), ledger, audit);
        assertEquals(1, oversold.broken());
        assertEquals(1, oversold.oversoldUnits());
        assertEquals(1L, oversold.firstBroken().get(0).product());

        Inventory.StockAudit leak = inventory.evaluate(Map.of(1L, 4L, 2L, 5L), Map.of(1L, 0L, 2L, 4L), ledger, audit);
        assertEquals(1, leak.broken(), "stock left without an order");
        assertEquals(0, leak.oversoldUnits());
    }

    @Test
    void historyIsElleRwRegisterJson() throws Exception {
        History h = log.history();
        h.add(1, History.Type.INVOKE, true, "user:7", "Ada w1");
        h.add(1, History.Type.OK, true, "user:7", "Ada w1");
        h.add(1, History.Type.INVOKE, false, "user:7", null);
        h.add(1, History.Type.OK, false, "user:7", "Ada w1");
        h.add(1, History.Type.INVOKE, false, "user:7", null);
        h.add(1, History.Type.OK, false, "user:7", "Ada (seeded)");
        h.add(2, History.Type.INVOKE, true, "user:8", "Bo w2");
        h.add(2, History.Type.INFO, true, "user:8", "Bo w2");
        Path file = dir.resolve("history.json");
        h.writeElleJson(file);
        JsonNode ops = new ObjectMapper().readTree(Files.readString(file));
        assertEquals(8, ops.size());
        JsonNode first = ops.get(0);
        assertEquals("invoke", first.path("type").asText());
        assertEquals("txn", first.path("f").asText());
        assertEquals("[[\"w\",\"user:7\",1]]", first.path("value").toString());
        assertEquals("[[\"r\",\"user:7\",null]]", ops.get(2).path("value").toString(), "an invoked read has no value yet");
        assertEquals("[[\"r\",\"user:7\",1]]", ops.get(3).path("value").toString());
        assertEquals("[[\"r\",\"user:7\",null]]", ops.get(5).path("value").toString(), "a state no one wrote is the initial one");
        assertEquals("info", ops.get(7).path("type").asText());
        for (int i = 0; i < ops.size(); i++) {
            assertEquals(i, ops.get(i).path("index").asInt());
            assertTrue(ops.get(i).path("process").isIntegralNumber() && ops.get(i).path("time").isIntegralNumber());
        }
    }

    @Test
    void writeIdsAreUniqueAcrossRuns() {
        ConsistencyLog other = new ConsistencyLog(System::nanoTime);
        String a = log.newWriteId();
        String b = other.newWriteId();
        assertTrue(a.matches("db-[0-9a-f]{12}-1"), a);
        assertTrue(!a.equals(b), "two runs never hand out the same key: " + a + " " + b);
    }

    private static WriteLedger.Write write(String id, WriteLedger.Outcome outcome) {
        return new WriteLedger.Write("order", "order:" + id, id, 1, 1.0, 1.5, outcome,
                outcome == WriteLedger.Outcome.ACKNOWLEDGED ? Observation.of(1, id) : null, id);
    }

    private static List<Guarantee> guarantees(List<Violation> violations) {
        return violations.stream().map(Violation::guarantee).toList();
    }
}
