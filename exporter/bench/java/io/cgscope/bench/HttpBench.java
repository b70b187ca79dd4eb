package io.cgscope.bench;

import io.cgscope.Agent;
import io.cgscope.BuildInfo;
import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.log.Logging;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * The HTTP API benchmark's server (not part of cgscope; {@code exporter/bench/http-api.sh} compiles
 * and runs it): the whole agent, as {@code java -jar cgscope.jar FLAGS...} runs it, plus one route
 * of its own, {@code GET /bench/constant}, the benchmark's reference. It answers the body
 * {@code /cgroup/<id>} gave for the id named by the first argument, fetched once at start and sent
 * as a constant of the same size and content type: the cost of the server alone, on the same
 * server and event loop, without the index lookup and the JSON.
 *
 * <pre>
 * HttpBench ID FLAGS...
 * </pre>
 */
public final class HttpBench {
    private HttpBench() {
    }

    public static void main(String[] args) throws Exception {
        String id = args[0];
        Config config = ((Flags.Run) Flags.parse(Arrays.copyOfRange(args, 1, args.length))).config();
        Logging.configure(config.logLevel(), config.logFormat());
        Agent agent = new Agent(config, BuildInfo.load());
        agent.start();
        Runtime.getRuntime().addShutdownHook(new Thread(agent::stop));
        int port = agent.httpComponent().port();
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/cgroup/" + id)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            agent.stop();
            throw new IllegalStateException("bench: /cgroup/" + id + " answered " + r.statusCode());
        }
        Buffer body = Buffer.buffer(r.body());
        String contentType = r.headers().firstValue("Content-Type").orElse("application/json");
        agent.httpComponent().router().route("/bench/constant").method(HttpMethod.GET)
                .handler(ctx -> ctx.response().putHeader("Content-Type", contentType).end(body));
        System.err.println("bench: /bench/constant answers the " + body.length() + " bytes of /cgroup/" + id);
        new CountDownLatch(1).await(); // until SIGTERM
    }
}
