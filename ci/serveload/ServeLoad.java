import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load generator of ci/bench-serve.sh, the same for llama-java's server and llama-server:
 * CONCURRENCY clients each send REQUESTS streamed /v1/completions one after another (distinct
 * prompts, greedy, ignore_eos, max_tokens TOKENS), and it prints one line:
 * {@code RESULT <label> <concurrency> <generated tokens/s> <TTFT p50 ms> <TTFT p99 ms> <requests> <tokens> <retried>
 * <stream tokens/s>}, the last the median over requests of one stream's rate after its first token
 * ((chunks - 1) / (last chunk - first chunk): the decode speed a client sees, without the prompt)
 * (a request sent again once when the server had closed its keep-alive connection before answering).
 * Tokens are counted as the stream's text chunks (one per token on both servers); TTFT is the time
 * from sending a request to its first chunk with text. Loopback only. Run with {@code java ServeLoad.java}.
 *
 * <p>Usage: {@code java ServeLoad.java BASE_URL LABEL CONCURRENCY REQUESTS TOKENS}
 */
public class ServeLoad {
    public static void main(String[] args) throws Exception {
        String base = args[0];
        String label = args[1];
        int concurrency = Integer.parseInt(args[2]);
        int requests = Integer.parseInt(args[3]);
        int tokens = Integer.parseInt(args[4]);
        if (!URI.create(base).getHost().matches("127\\.0\\.0\\.1|localhost|\\[?::1]?")) {
            throw new IllegalArgumentException("loopback only: " + base);
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<Double> ttft = Collections.synchronizedList(new ArrayList<>());
        List<Double> streamRates = Collections.synchronizedList(new ArrayList<>());
        AtomicLong generated = new AtomicLong();
        AtomicLong retried = new AtomicLong();
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < concurrency; c++) {
            int client = c;
            clients.add(new Thread(() -> {
                for (int r = 0; r < requests && errors.isEmpty(); r++) {
                    String body = "{\"prompt\": \"Once upon a time, in story " + (client * 1000 + r) + ", there\","
                            + " \"max_tokens\": " + tokens + ", \"temperature\": 0, \"stream\": true,"
                            + " \"ignore_eos\": true}";
                    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                            .timeout(Duration.ofMinutes(10)).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build();
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<java.io.InputStream> res;
                        try {
                            res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
                        } catch (java.io.IOException e) {
                            // a keep-alive connection the server closed meanwhile: once more on a new one, counted
                            retried.incrementAndGet();
                            t0 = System.nanoTime();
                            res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
                        }
                        if (res.statusCode() != 200) {
                            throw new IllegalStateException("HTTP " + res.statusCode() + ": "
                                    + new String(res.body().readAllBytes(), StandardCharsets.UTF_8));
                        }
                        long n = 0;
                        long first = 0;
                        long last = 0;
                        try (BufferedReader in = new BufferedReader(new InputStreamReader(res.body(),
                                StandardCharsets.UTF_8))) {
                            String line;
                            while ((line = in.readLine()) != null) {
                                if (line.startsWith("data: ") && line.contains("\"text\":\"") && !line.contains("\"text\":\"\"")) {
                                    last = System.nanoTime();
                                    if (n++ == 0) {
                                        first = last;
                                        ttft.add((first - t0) / 1e6);
                                    }
                                }
                            }
                        }
                        generated.addAndGet(n);
                        if (n > 1 && last > first) {
                            streamRates.add((n - 1) * 1e9 / (last - first));
                        }
                    } catch (Exception e) {
                        errors.add(e);
                    }
                }
            }));
        }
        clients.forEach(Thread::start);
        for (Thread t : clients) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!errors.isEmpty()) {
            System.err.println(label + ": " + errors.size() + " requests failed; the first: " + errors.get(0));
            System.exit(1);
        }
        List<Double> sorted = new ArrayList<>(ttft);
        Collections.sort(sorted);
        List<Double> rates = new ArrayList<>(streamRates);
        Collections.sort(rates);
        System.out.printf("RESULT %s %d %.1f %.1f %.1f %d %d %d %.1f%n", label, concurrency, generated.get() / seconds,
                pct(sorted, 50), pct(sorted, 99), sorted.size(), generated.get(), retried.get(), pct(rates, 50));
    }

    private static double pct(List<Double> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
