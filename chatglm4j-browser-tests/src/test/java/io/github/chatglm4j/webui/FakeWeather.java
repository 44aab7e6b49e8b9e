package io.github.chatglm4j.webui;

import com.sun.net.httpserver.HttpServer;
import io.github.chatglm4j.agent.tool.WeatherService;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * wttr.in as the server's built-in get_weather asks it ({@code GET /{city}?format=j1}), on a loopback port the test
 * owns, so tool calls run for real without the internet. With {@link #hold()} each request waits until
 * {@link #release()}: the tool call is then running, and its turn's stream stays open.
 */
final class FakeWeather implements AutoCloseable {
    private final HttpServer http;
    /** The cities asked for, in order. */
    final List<String> cities = new CopyOnWriteArrayList<>();
    private final Semaphore arrived = new Semaphore(0);
    private volatile CountDownLatch gate;

    FakeWeather() {
        try {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.createContext("/", ex -> {
            String city = URLDecoder.decode(ex.getRequestURI().getPath().substring(1), StandardCharsets.UTF_8);
            cities.add(city);
            arrived.release();
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] body = j1(city).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
    }

    /** get_weather asking this server, with a timeout longer than any test. */
    WeatherService service() {
        return new WeatherService(true, URI.create("http://127.0.0.1:" + http.getAddress().getPort()), Duration.ofMinutes(5));
    }

    /** The current weather of wttr.in's j1 format (the fields the tool keeps, and one it drops). */
    static String j1(String city) {
        return """
                {"current_condition": [{"FeelsLikeC": "23", "humidity": "31", "observation_time": "06:00 AM", "temp_C": "24",
                  "weatherDesc": [{"value": "Sunny"}], "windspeedKmph": "9"}], "nearest_area": [{"areaName": [{"value": "%s"}]}]}"""
                .formatted(city);
    }

    /** Requests wait from now on until {@link #release()}. */
    void hold() {
        gate = new CountDownLatch(1);
    }

    void release() {
        CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    /** Returns once {@code n} requests have arrived (bounded, so that a page that never calls fails the test). */
    void awaitRequests(int n) throws InterruptedException {
        if (!arrived.tryAcquire(n, 60, TimeUnit.SECONDS)) {
            throw new AssertionError("fewer than " + n + " weather requests arrived: " + cities);
        }
    }

    @Override
    public void close() {
        release();
        http.stop(0);
    }
}
