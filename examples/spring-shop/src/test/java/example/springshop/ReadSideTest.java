package example.springshop;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code shop.reads} picks the read pool; a wrong or incomplete setting stops the start, saying what to set. */
class ReadSideTest {
    @Configuration
    @EnableConfigurationProperties(ShopSettings.class)
    static class Wiring {
        @Bean
        HikariDataSource writer() {
            HikariDataSource writer = new HikariDataSource(); // connects only when asked: never, here
            writer.setJdbcUrl("jdbc:postgresql://127.0.0.1:9/shop");
            return writer;
        }

        @Bean
        SimpleMeterRegistry meters() {
            return new SimpleMeterRegistry();
        }
    }

    private final ApplicationContextRunner context = new ApplicationContextRunner()
            .withUserConfiguration(Wiring.class, ReadSide.class);

    @Test
    void primaryIsTheDefault() {
        context.run(c -> assertThat(c.getBean(ReadSide.class).servedBy()).isEqualTo("primary"));
    }

    @Test
    void replicaReadsGoToTheirOwnPool() {
        context.withPropertyValues("shop.reads=replica", "shop.replica-url=jdbc:postgresql://127.0.0.1:9/shop")
                .run(c -> assertThat(c.getBean(ReadSide.class).servedBy()).isEqualTo("replica"));
    }

    @Test
    void replicaWithoutItsUrlIsRefusedNamingTheVariable() {
        context.withPropertyValues("shop.reads=replica").run(c -> assertThat(c).getFailure()
                .rootCause().hasMessageContaining("SHOP_REPLICA_URL"));
    }

    @Test
    void anUnknownRoutingIsRefused() {
        context.withPropertyValues("shop.reads=sideways").run(c -> assertThat(c).getFailure()
                .hasStackTraceContaining("sideways"));
    }
}
