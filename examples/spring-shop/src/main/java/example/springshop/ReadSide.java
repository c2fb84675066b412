package example.springshop;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Where order reads go, decided once at start by {@code shop.reads}:
 * <ul>
 *   <li>{@code primary}: Spring Boot's own DataSource (the pool the writes use, {@code HikariPool-1});</li>
 *   <li>{@code replica}: a second HikariCP pool, named {@code replica}, on {@code shop.replica-url}, with the same
 *       user and password. Its meters are published beside the primary pool's.</li>
 * </ul>
 * The pool that answered is named in each read's {@code X-Served-By} header.
 */
@Component
class ReadSide implements AutoCloseable {
    private final JdbcClient jdbc;
    private final String servedBy;
    private final HikariDataSource replicaPool;

    ReadSide(ShopSettings settings, DataSource primary, MeterRegistry meters,
             @Value("${spring.datasource.username:}") String user,
             @Value("${spring.datasource.password:}") String password) {
        if (settings.reads() == ShopSettings.Reads.REPLICA) {
            if (settings.replicaUrl() == null || settings.replicaUrl().isBlank()) {
                throw new IllegalStateException("shop.reads=replica needs shop.replica-url (SHOP_REPLICA_URL): "
                        + "the JDBC URL of the read replica");
            }
            replicaPool = new HikariDataSource();
            replicaPool.setPoolName("replica");
            replicaPool.setJdbcUrl(settings.replicaUrl());
            replicaPool.setUsername(user);
            replicaPool.setPassword(password);
            replicaPool.setReadOnly(true);
            replicaPool.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(meters));
            jdbc = JdbcClient.create(replicaPool);
            servedBy = "replica";
        } else {
            replicaPool = null;
            jdbc = JdbcClient.create(primary);
            servedBy = "primary";
        }
    }

    JdbcClient jdbc() {
        return jdbc;
    }

    /** The {@code X-Served-By} value of this shop's reads. */
    String servedBy() {
        return servedBy;
    }

    @Override
    public void close() {
        if (replicaPool != null) {
            replicaPool.close();
        }
    }
}
