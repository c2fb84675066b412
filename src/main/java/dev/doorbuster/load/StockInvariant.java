package dev.doorbuster.load;

import java.util.HashSet;
import java.util.Map;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.consistency.ConsistencyLog;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.WriteLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stock invariant of a run whose simulation tracks stock ({@link Run#trackStock}): the doorbusters' stock is set
 * and every product's stock read before the load, and read again once the writes are audited. On an external
 * environment other traffic may order too, so the invariant is not evaluated there.
 */
final class StockInvariant {
    private static final Logger log = LoggerFactory.getLogger(StockInvariant.class);

    private record Tracking(Run.StockReader reader, Doorbusters doorbusters, Run.Fixture fixture) {
    }

    private final Environment environment;
    private final ConsistencyLog consistencyLog;
    private volatile Tracking tracking;
    private volatile Map<Long, Long> initialStock;
    private volatile String error;

    StockInvariant(Environment environment, ConsistencyLog consistencyLog) {
        this.environment = environment;
        this.consistencyLog = consistencyLog;
    }

    void track(Run.StockReader reader, Doorbusters doorbusters, Run.Fixture fixture) {
        tracking = new Tracking(reader, doorbusters, fixture);
    }

    /** Environments that own their database: applies the doorbuster fixture, then reads every product's stock. */
    void prepare() {
        Tracking t = tracking;
        if (t == null) {
            return;
        }
        if (!environment.ownsDatabase()) {
            error = "environment '" + environment.name() + "' is external: other traffic may take stock too";
            return;
        }
        try {
            t.fixture().apply();
            initialStock = t.reader().read();
            consistencyLog.inventory().doorbusters(new HashSet<>(t.doorbusters().productIds()));
        } catch (Exception e) {
            error = "the stock could not be read before the load: " + e.getMessage();
            log.warn("Stock invariant disabled: {}", error);
        }
    }

    /** The invariant on the current primary, once the writes are {@code audit}ed (null when not tracked). */
    Inventory.StockAudit audit(WriteLedger.Audit audit) {
        Tracking t = tracking;
        if (t == null || (!environment.ownsDatabase() && initialStock == null)) {
            return null;
        }
        Inventory inventory = consistencyLog.inventory();
        if (initialStock == null) {
            return Inventory.StockAudit.notPossible(inventory.outOfStockAnswers(), error);
        }
        try {
            return inventory.evaluate(initialStock, t.reader().read(), consistencyLog.ledger(), audit);
        } catch (Exception e) {
            return Inventory.StockAudit.notPossible(inventory.outOfStockAnswers(), "the stock could not be read after "
                    + "the load: " + e.getMessage());
        }
    }
}
