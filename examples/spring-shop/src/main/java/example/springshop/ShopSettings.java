package example.springshop;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The shop's own settings ({@code shop.*} in application.properties, or {@code SHOP_*} environment variables).
 *
 * @param reads      where {@code GET /orders/{id}} reads from: {@code primary} (the writes' own pool: a shopper always
 *                   sees the order they just placed) or {@code replica} (a second pool on {@code replicaUrl}: it takes
 *                   reads off the primary, and under replication lag a shopper's own new order is "not found")
 * @param replicaUrl JDBC URL of the read replica, used only with {@code reads=replica}
 */
@ConfigurationProperties("shop")
public record ShopSettings(@DefaultValue("primary") Reads reads, String replicaUrl) {
    public enum Reads {
        PRIMARY, REPLICA
    }
}
