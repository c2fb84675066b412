package dev.doorbuster.pooler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** pgbouncer.ini and the users file as PgBouncerConfig writes them, for a process here and for a container. */
class PgBouncerConfigTest {
    private final PgBouncerConfig config = new PgBouncerConfig(PoolMode.TRANSACTION, 100, 2,
            Map.of("storefront", new PgBouncerConfig.Target(InetSocketAddress.createUnresolved("toxiproxy", 8666),
                    "storefront")), List.of(PgBouncerConfig.EXTRA_FLOAT_DIGITS, PgBouncerConfig.OPTIONS),
            Map.of("statement_timeout", "5000"), 1);

    @Test
    void aContainersIniListensEverywhereInsideLogsToItsOutputAndNamesItsServersByName() {
        List<String> ini = List.of(config.ini(new PgBouncerConfig.Placement("0.0.0.0", 6432,
                "/etc/pgbouncer/users.txt", null, "postgres")).split("\n"));
        assertTrue(ini.contains("storefront = host=toxiproxy port=8666 dbname=storefront "
                + "connect_query='SET statement_timeout = ''5000'''"), ini.toString());
        assertTrue(ini.contains("listen_addr = 0.0.0.0") && ini.contains("listen_port = 6432"), ini.toString());
        assertTrue(ini.contains("auth_file = /etc/pgbouncer/users.txt") && ini.contains("admin_users = postgres"));
        assertTrue(ini.contains("ignore_startup_parameters = extra_float_digits,options"), ini.toString());
        assertTrue(ini.contains("server_login_retry = 1") && ini.contains("default_pool_size = 2"), ini.toString());
        assertFalse(ini.stream().anyMatch(l -> l.startsWith("logfile")), "no log file: its standard error");
    }

    @Test
    void aProcesssIniNamesItsLogFile() {
        String ini = config.ini(new PgBouncerConfig.Placement("127.0.0.1", 7000, "/run/x/users.txt", "/run/x/p.log",
                "postgres"));
        assertTrue(ini.contains("\nlogfile = /run/x/p.log\n") && ini.contains("\nlisten_addr = 127.0.0.1\n"), ini);
    }

    @Test
    void theUsersFileGivesEachLoginItsPasswordAndRefusesWhatItCannotHold() {
        Map<String, String> users = new LinkedHashMap<>();
        users.put("postgres", "s3cret");
        users.put("storefront", "");
        assertEquals("\"postgres\" \"s3cret\"\n\"storefront\" \"\"\n", PgBouncerConfig.usersFile(users));
        assertThrows(IllegalArgumentException.class, () -> PgBouncerConfig.usersFile(Map.of("postgres", "a\"b")));
        assertThrows(IllegalArgumentException.class, () -> PgBouncerConfig.usersFile(Map.of("drop table", "")));
        assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig.Placement("0.0.0.0", 6432,
                "/my dir/users.txt", null, "postgres"));
    }

    @Test
    void anAliasItDoesNotServeIsNamedWithThoseItDoes() {
        PoolerException e = assertThrows(PoolerException.class, () -> config.requireAlias("shop", "pooler"));
        assertEquals("PgBouncer 'pooler' serves no database 'shop'; it serves [storefront]", e.getMessage());
    }
}
