package dev.kafkareranker.app;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the Schema Registry answers, for readiness: asked every few seconds by RerankerApp's gate.
 * The pipeline's own calls cannot say it: with schemas cached, an outage goes unseen until a restart or
 * a new writer schema, and then every task fails (as it should: valid input is not dead-lettered) while
 * readiness would stay green. Unavailable means what the serdes retry on: no connection, HTTP 429 or
 * 5xx; any other answer (404 for this path, 401 without credentials) is a registry that answers.
 */
final class RegistryProbe {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryProbe.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private final List<URI> urls;
    private final HttpClient http;
    private volatile String unavailable = "";

    /** {@code urls}: schema.registry.url's comma-separated list; mock:// and empty ones are not probed. */
    RegistryProbe(String urls) {
        List<URI> parsed = new ArrayList<>();
        for (String url : urls == null ? new String[0] : urls.split(",")) {
            String u = url.strip();
            if (u.startsWith("http://") || u.startsWith("https://")) {
                parsed.add(URI.create(u.endsWith("/") ? u + "subjects" : u + "/subjects"));
            }
        }
        this.urls = List.copyOf(parsed);
        this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    }

    /** Empty while some registry URL answers (or none is probed), else a line saying why readiness is red. */
    String unavailable() {
        return unavailable;
    }

    void probe() {
        if (urls.isEmpty()) {
            return;
        }
        StringBuilder why = new StringBuilder();
        for (URI url : urls) {
            try {
                int status = http.send(HttpRequest.newBuilder(url).timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode();
                if (status != 429 && status < 500) {
                    changed("");
                    return;
                }
                why.append(url).append(": HTTP ").append(status).append("; ");
            } catch (java.io.IOException e) {
                why.append(url).append(": ").append(e.getClass().getSimpleName()).append(' ').append(e.getMessage()).append("; ");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        changed("schema registry unavailable (" + why.toString().strip() + ")");
    }

    private void changed(String now) {
        if (!now.equals(unavailable) && (now.isEmpty() || unavailable.isEmpty())) {
            if (now.isEmpty()) {
                LOG.info("The Schema Registry answers again; readiness no longer waits for it");
            } else {
                LOG.warn("Readiness is down: {}", now);
            }
        }
        unavailable = now;
    }
}
