package example.springshop;

import java.net.URI;
import java.util.Optional;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * <pre>
 * POST /orders        Idempotency-Key: &lt;the client's id of this request&gt;
 *                     {"shopperId": 17, "sku": "tv-55", "quantity": 1}
 *                     201 the new order; 200 the same order again for a retry with the same key;
 *                     409 if that key already placed a different order; 400 for bad input
 * GET  /orders/{id}   200 the order; 404 if there is none; either names the pool that answered
 *                     (X-Served-By: primary | replica)
 * </pre>
 * Every error answer is JSON: {@code {"error": "...", "message": "..."}} ({@link ApiErrors}).
 */
@RestController
@RequestMapping("/orders")
class OrdersController {
    static final int MAX_KEY_LENGTH = 200;
    static final int MAX_QUANTITY = 100;
    static final String SERVED_BY = "X-Served-By";

    private final Orders orders;
    private final ReadSide reads;

    OrdersController(Orders orders, ReadSide reads) {
        this.orders = orders;
        this.reads = reads;
    }

    @PostMapping
    ResponseEntity<Order> place(@RequestHeader("Idempotency-Key") String key, @RequestBody Order.New request) {
        if (key.isBlank() || key.length() > MAX_KEY_LENGTH) {
            throw new ApiErrors.BadInput(HttpStatus.BAD_REQUEST, "bad_idempotency_key",
                    "Idempotency-Key must be 1 to " + MAX_KEY_LENGTH + " characters");
        }
        if (request.shopperId() == null || request.shopperId() <= 0) {
            throw ApiErrors.badField("shopperId", "a positive number");
        }
        if (request.sku() == null || request.sku().isBlank()) {
            throw ApiErrors.badField("sku", "a non-empty string");
        }
        if (request.quantity() == null || request.quantity() < 1 || request.quantity() > MAX_QUANTITY) {
            throw ApiErrors.badField("quantity", "a whole number from 1 to " + MAX_QUANTITY);
        }
        Orders.Placed placed = orders.place(key, request);
        if (!placed.order().matches(request)) {
            throw new ApiErrors.BadInput(HttpStatus.CONFLICT, "idempotency_key_reused",
                    "Idempotency-Key " + key + " already placed order " + placed.order().id() + " with other contents");
        }
        if (placed.created()) {
            return ResponseEntity.created(URI.create("/orders/" + placed.order().id())).body(placed.order());
        }
        return ResponseEntity.ok(placed.order());
    }

    /** Found or not, the answer names the pool that answered: a "not found" from a lagging replica is its doing. */
    @GetMapping("/{id}")
    ResponseEntity<?> one(@PathVariable long id) {
        Optional<Order> order = orders.find(id);
        return ResponseEntity.status(order.isPresent() ? HttpStatus.OK : HttpStatus.NOT_FOUND)
                .header(SERVED_BY, reads.servedBy())
                .body(order.isPresent() ? order.get() : new ApiErrors.Problem("not_found", "no order " + id));
    }
}
