package dev.doorbuster.proxy;

import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Parses, resolves and prints {@code host:port} addresses the way Toxiproxy (Go's net package) does,
 * with Go's error texts, and with name lookups bounded in time so that no API call can hang on DNS.
 */
final class Addresses implements AutoCloseable {

    /** Where a listen address without a host binds: loopback, not every interface as in Toxiproxy. */
    static final String DEFAULT_HOST = "127.0.0.1";

    private static final long LOOKUP_TIMEOUT_MILLIS = 5_000;

    record HostPort(String host, String port) {
    }

    private final ExecutorService lookups;

    Addresses() {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                runnable -> {
                    Thread thread = new Thread(runnable, "doorbuster-proxy-dns");
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        this.lookups = executor;
    }

    /** Go's SplitHostPort: {@code host:port}, {@code [v6]:port}, {@code :port}. */
    static HostPort split(String address) throws ApiException {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw addressError(address, "missing port in address");
        }
        String host;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0) {
                throw addressError(address, "missing ']' in address");
            }
            if (close + 1 == address.length()) {
                throw addressError(address, "missing port in address");
            }
            if (close + 1 != colon) {
                throw addressError(address, address.charAt(close + 1) == ':'
                        ? "too many colons in address" : "missing port in address");
            }
            host = address.substring(1, close);
            if (address.indexOf('[', 1) >= 0) {
                throw addressError(address, "unexpected '[' in address");
            }
            if (address.indexOf(']', close + 1) >= 0) {
                throw addressError(address, "unexpected ']' in address");
            }
        } else {
            host = address.substring(0, colon);
            if (host.indexOf(':') >= 0) {
                throw addressError(address, "too many colons in address");
            }
            if (host.indexOf('[') >= 0) {
                throw addressError(address, "unexpected '[' in address");
            }
            if (host.indexOf(']') >= 0) {
                throw addressError(address, "unexpected ']' in address");
            }
        }
        return new HostPort(host, address.substring(colon + 1));
    }

    static int port(String port) throws ApiException {
        if (port.isEmpty()) {
            return 0;
        }
        for (int i = 0; i < port.length(); i++) {
            if (port.charAt(i) < '0' || port.charAt(i) > '9') {
                throw ApiException.internal("lookup tcp/" + port + ": unknown port");
            }
        }
        if (port.length() > 5 || Integer.parseInt(port) > 65535) {
            throw ApiException.internal("address " + port + ": invalid port");
        }
        return Integer.parseInt(port);
    }

    /**
     * Resolves a proxy's listen address. An empty address, or an empty host, means loopback (Toxiproxy
     * binds every interface there); an empty port means an ephemeral one.
     */
    InetSocketAddress resolveListen(String listen) throws ApiException {
        if (listen == null || listen.isEmpty()) {
            return new InetSocketAddress(literal(DEFAULT_HOST), 0);
        }
        HostPort hostPort = split(listen);
        int port = port(hostPort.port());
        String host = hostPort.host().isEmpty() ? DEFAULT_HOST : hostPort.host();
        return new InetSocketAddress(resolve(host), port);
    }

    /** Resolves a host name (or literal) to one address, preferring IPv4 as Go does, within a bounded wait. */
    InetAddress resolve(String host) throws ApiException {
        InetAddress literal = literal(host);
        if (literal != null) {
            return literal;
        }
        CompletableFuture<InetAddress> lookup = lookupAsync(host);
        try {
            return lookup.get(LOOKUP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            lookup.cancel(true);
            throw ApiException.internal("lookup " + host + ": i/o timeout");
        } catch (ExecutionException e) {
            throw ApiException.internal("lookup " + host + ": no such host");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.internal("lookup " + host + ": interrupted");
        }
    }

    /** Looks a name up off the caller's thread (event loops must never block on DNS). */
    CompletableFuture<InetAddress> lookupAsync(String host) {
        InetAddress literal = literal(host);
        if (literal != null) {
            return CompletableFuture.completedFuture(literal);
        }
        CompletableFuture<InetAddress> result = new CompletableFuture<>();
        try {
            lookups.execute(() -> {
                try {
                    result.complete(preferIpv4(InetAddress.getAllByName(host)));
                } catch (UnknownHostException | RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RuntimeException rejected) {
            result.completeExceptionally(rejected);
        }
        return result.orTimeout(LOOKUP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static InetAddress preferIpv4(InetAddress[] addresses) {
        for (InetAddress address : addresses) {
            if (address instanceof Inet4Address) {
                return address;
            }
        }
        return addresses[0];
    }

    /** The address for an IP literal, without any lookup; null for a host name. */
    static InetAddress literal(String host) {
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            try {
                return InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(host));
            } catch (UnknownHostException e) {
                return null;
            }
        }
        return null;
    }

    /** As Go prints a TCP address: {@code 127.0.0.1:8474}, {@code [::1]:8474}. */
    static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host = ip == null ? address.getHostString() : NetUtil.toAddressString(ip);
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private static ApiException addressError(String address, String reason) {
        return ApiException.internal("address " + address + ": " + reason);
    }

    @Override
    public void close() {
        lookups.shutdownNow();
    }
}
