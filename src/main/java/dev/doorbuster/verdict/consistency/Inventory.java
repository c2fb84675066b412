package dev.doorbuster.verdict.consistency;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The namesake invariant of Black Friday: stock only leaves with an order. Every order a virtual user
 * attempts is noted with its units per product; after the faults heal, for every product on the current
 * primary: stock before the load = stock now + units in the users' orders that are present there
 * (acknowledged, plus in-doubt ones that turned out committed, reported apart), and stock is never below
 * zero. More units in present orders than the stock went down is <b>overselling</b> (a lost update of the
 * stock); less means stock left without an order.
 *
 * <p>Orders go to the run's {@link ConsistencyJournal}; only their count stays in memory.
 */
public final class Inventory {
    /** One product's figures. */
    public record ProductStock(long product, long initial, long current, long unitsAcknowledged, long unitsInDoubt,
                               long unitsPresent) {
        /** Units in present orders that the stock does not account for (lost updates of the stock). */
        public long oversold() {
            return Math.max(0, unitsPresent - (initial - current));
        }

        public boolean holds() {
            return initial == current + unitsPresent && current >= 0;
        }
    }

    /**
     * The invariant's outcome.
     *
     * @param products          products compared
     * @param broken            products where it does not hold
     * @param oversoldUnits     units sold beyond what left the stock, over every product
     * @param belowZero         products with negative stock
     * @param outOfStockAnswers checkouts answered {@code out_of_stock} (expected once deals sell out)
     * @param soldOut           doorbuster products with no stock left
     * @param doorbusters       the doorbuster products' figures
     * @param firstBroken       the first products where it does not hold (at most 20)
     * @param error             why it could not be evaluated, or null
     */
    public record StockAudit(long products, long broken, long oversoldUnits, long belowZero, long outOfStockAnswers,
                             long soldOut, List<ProductStock> doorbusters, List<ProductStock> firstBroken, String error) {
        public static StockAudit notPossible(long outOfStock, String why) {
            return new StockAudit(0, -1, -1, -1, outOfStock, 0, List.of(), List.of(), why);
        }
    }

    private final ConsistencyJournal journal;
    private final AtomicLong orders = new AtomicLong();
    private final AtomicLong outOfStock = new AtomicLong();
    private final Set<Long> doorbusters = ConcurrentHashMap.newKeySet();

    Inventory(ConsistencyJournal journal) {
        this.journal = journal;
    }

    /** An order (write {@code writeId}) is about to be placed for {@code units} (product → quantity): journaled. */
    public void attempted(String writeId, Map<Long, Integer> units) {
        journal.appendOrder(writeId, units);
        orders.incrementAndGet();
    }

    public void outOfStock() {
        outOfStock.incrementAndGet();
    }

    public long outOfStockAnswers() {
        return outOfStock.get();
    }

    public void doorbusters(Set<Long> products) {
        doorbusters.addAll(products);
    }

    /** Orders attempted (a shard's included once absorbed). */
    public long orders() {
        return orders.get();
    }

    /** Counts a shard's orders (its journal is read with this one's) and {@code out_of_stock} answers. */
    void absorb(long shardOrders, long outOfStockAnswers) {
        orders.addAndGet(shardOrders);
        outOfStock.addAndGet(outOfStockAnswers);
    }

    public boolean isEmpty() {
        return orders.get() == 0;
    }

    /**
     * @param initial    stock per product before the load
     * @param current    stock per product now, on the current primary
     * @param ledger     the run's writes (which orders were acknowledged, in doubt), read from the journal the
     *                   orders share
     * @param audit      which writes are present now (its {@code absent} set)
     */
    public StockAudit evaluate(Map<Long, Long> initial, Map<Long, Long> current, WriteLedger ledger,
                               WriteLedger.Audit audit) {
        if (audit.error() != null) {
            return StockAudit.notPossible(outOfStock.get(), "the write audit failed, so which orders exist is unknown");
        }
        if (journal.problem() != null) {
            return StockAudit.notPossible(outOfStock.get(), "the orders are unknown: " + journal.problem());
        }
        Map<Long, long[]> units;
        try {
            units = unitsOfPresentOrders(audit);
        } catch (IOException | RuntimeException e) {
            return StockAudit.notPossible(outOfStock.get(), "the orders could not be read back: " + e.getMessage());
        }
        Set<Long> products = new TreeSet<>(initial.keySet());
        products.addAll(current.keySet());
        long broken = 0;
        long oversold = 0;
        long belowZero = 0;
        long soldOut = 0;
        List<ProductStock> firstBroken = new ArrayList<>();
        List<ProductStock> deals = new ArrayList<>();
        for (long product : products) {
            long[] u = units.getOrDefault(product, new long[2]);
            ProductStock p = new ProductStock(product, initial.getOrDefault(product, 0L),
                    current.getOrDefault(product, 0L), u[0], u[1], u[0] + u[1]);
            if (!p.holds()) {
                broken++;
                if (firstBroken.size() < 20) {
                    firstBroken.add(p);
                }
            }
            oversold += p.oversold();
            if (p.current() < 0) {
                belowZero++;
            }
            if (doorbusters.contains(product)) {
                deals.add(p);
                if (p.current() == 0) {
                    soldOut++;
                }
            }
        }
        return new StockAudit(products.size(), broken, oversold, belowZero, outOfStock.get(), soldOut, deals, firstBroken,
                null);
    }

    /**
     * Product → {units of acknowledged orders, units of in-doubt orders that committed and of ghosts}, streamed from
     * the journal. An order is journaled when attempted, its write when answered (later, in journal order): orders
     * wait in memory for their write, so memory follows the orders in flight, not the run's. An order whose write
     * came first or never (the run stopped mid-request) is looked for once more in a second pass.
     */
    private Map<Long, long[]> unitsOfPresentOrders(WriteLedger.Audit audit) throws IOException {
        Map<Long, long[]> units = new TreeMap<>();
        // Ghosts (refused, yet committed) took stock too: the listed ones, as the audit names them.
        Set<String> ghostIds = new HashSet<>();
        audit.kinds().forEach(k -> k.ghostWrites().forEach(g -> ghostIds.add(g.id())));
        Map<String, Map<Long, Integer>> waiting = new HashMap<>();
        journal.forEach(new ConsistencyJournal.Visitor() {
            @Override
            public void order(String writeId, Map<Long, Integer> ordered) {
                waiting.put(writeId, ordered);
            }

            @Override
            public void write(WriteLedger.Write w) {
                Map<Long, Integer> ordered = waiting.remove(w.id());
                if (ordered != null) {
                    add(units, w, ordered, audit, ghostIds);
                }
            }
        });
        if (!waiting.isEmpty()) {
            journal.forEach(new ConsistencyJournal.Visitor() {
                @Override
                public void write(WriteLedger.Write w) {
                    Map<Long, Integer> ordered = waiting.remove(w.id());
                    if (ordered != null) {
                        add(units, w, ordered, audit, ghostIds);
                    }
                }
            });
        }
        return units; // orders still waiting had no write: never sent, none of their units left the stock
    }

    private static void add(Map<Long, long[]> units, WriteLedger.Write w, Map<Long, Integer> ordered,
                            WriteLedger.Audit audit, Set<String> ghostIds) {
        if (audit.absent().contains(w.id())) {
            return; // lost: none of its units left the stock
        }
        int slot;
        if (w.outcome() == WriteLedger.Outcome.FAILED) {
            if (!ghostIds.contains(w.id())) {
                return; // refused
            }
            slot = 1;
        } else {
            slot = w.outcome() == WriteLedger.Outcome.ACKNOWLEDGED ? 0 : 1;
        }
        ordered.forEach((product, quantity) -> units.computeIfAbsent(product, p -> new long[2])[slot] += quantity);
    }
}
