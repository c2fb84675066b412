package example.springshop;

/**
 * An order as stored and as answered. {@code version} starts at 1; {@code idempotencyKey} is the client's own
 * identity of the request that placed it.
 */
public record Order(long id, String idempotencyKey, long shopperId, String sku, int quantity, String status,
                    int version) {
    /** What a client sends to place one: {@code {"shopperId": 17, "sku": "tv-55", "quantity": 1}}. */
    public record New(Long shopperId, String sku, Integer quantity) {
    }

    /** True if this order is what {@code request} asked for (a retry of the same request). */
    boolean matches(New request) {
        return shopperId == request.shopperId() && sku.equals(request.sku()) && quantity == request.quantity();
    }
}
