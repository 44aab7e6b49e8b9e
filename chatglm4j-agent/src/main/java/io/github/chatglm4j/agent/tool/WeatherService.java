package io.github.chatglm4j.agent.tool;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where get_weather asks, and whether it may: off unless enabled, since it sends the city the model chose to a
 * service on the internet (the reference asks wttr.in).
 *
 * @param enabled whether requests are made at all
 * @param baseUrl the service, answering {@code GET {baseUrl}/{city}?format=j1} with wttr.in's JSON
 * @param timeout for connecting and for the whole request
 */
public record WeatherService(boolean enabled, URI baseUrl, Duration timeout) {
    public static final URI WTTR_IN = URI.create("https://wttr.in");
    /** Off. */
    public static final WeatherService DISABLED = new WeatherService(false, WTTR_IN, Duration.ofSeconds(10));

    public WeatherService {
        Objects.requireNonNull(baseUrl, "baseUrl");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** wttr.in, enabled. */
    public static WeatherService wttrIn() {
        return new WeatherService(true, WTTR_IN, Duration.ofSeconds(10));
    }

    public WeatherService withBaseUrl(URI url) {
        return new WeatherService(enabled, url, timeout);
    }
}
