package dev.doorbuster.load;

import java.util.List;
import java.util.stream.LongStream;

/**
 * Black-Friday traffic is skewed: a handful of deal products with little stock draw a large share of the
 * carts and checkouts, the rest spreads over a long tail. The deals are the storefront's first products
 * (ids 1..{@code count}); on a local environment their stock is set to {@code stockEach} before the load,
 * so they sell out under the spike and later checkouts are answered {@code out_of_stock} (an expected
 * answer, not an error).
 *
 * @param count     how many doorbuster products ({@code -Ddoorbusters.count}, default 3; 0 turns the skew off)
 * @param stockEach stock of each at the start ({@code -Ddoorbusters.stock}, default 10)
 * @param share     share of cart and checkout product picks that go to them ({@code -Ddoorbusters.share}, 0-1, default 0.5)
 */
public record Doorbusters(int count, int stockEach, double share) {
    public Doorbusters {
        if (count < 0 || stockEach < 0 || share < 0 || share > 1 || Double.isNaN(share)) {
            throw new IllegalArgumentException("doorbusters need count ≥ 0, stock ≥ 0 and a share between 0 and 1; got "
                    + count + ", " + stockEach + ", " + share);
        }
    }

    /** From {@code -Ddoorbusters.count}, {@code .stock} and {@code .share}, with the defaults above. */
    public static Doorbusters fromParameters() {
        return fromParameters(3, 10, 0.5);
    }

    /** From {@code -Ddoorbusters.count}, {@code .stock} and {@code .share}, with a simulation's own defaults. */
    public static Doorbusters fromParameters(int count, int stockEach, double share) {
        return new Doorbusters(Parameters.wholeNumber("doorbusters.count", count),
                Parameters.wholeNumber("doorbusters.stock", stockEach), Parameters.fraction("doorbusters.share", share));
    }

    public List<Long> productIds() {
        return LongStream.rangeClosed(1, count).boxed().toList();
    }

    /** A product for a cart or checkout: a doorbuster with probability {@code share}, else any of {@code products}. */
    long pick(java.util.random.RandomGenerator random, int products) {
        if (count > 0 && random.nextDouble() < share) {
            return 1 + random.nextInt(Math.min(count, products));
        }
        return 1 + random.nextInt(products);
    }
}
