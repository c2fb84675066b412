package example.springshop;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A small order service: shoppers place orders (each with an {@code Idempotency-Key} the client chose) and read
 * them back. Its database comes from Spring Boot's usual settings ({@code SPRING_DATASOURCE_URL}, ...); where it
 * reads orders from is one setting, {@code shop.reads} ({@link ShopSettings}).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class ShopApplication {
    public static void main(String[] args) {
        SpringApplication.run(ShopApplication.class, args);
    }
}
