using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using VqaApi.Rendering;
using VqaApi.Tasks.Canvases;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Precision;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

/// <summary>
/// The HTTP service at saturation against the bare encoder on the same kind of canvases, in one run: the service as users
/// run it (its own process, the built VqaApi.dll, on loopback), driven by concurrent clients with one canvas per request
/// (embed of a distinct text; VQA of the tour scene with a distinct question, so no cache answers), and the encoder alone
/// running the same canvases in batches of the service's MaxBatch. Both share this machine's cores with the load generator.
/// Before the rows of each kind of request the service is driven for --warmup seconds (default 20; after 10 s the JIT's tiering
/// still took 6% of the service's CPU on embeddings) at the highest
/// concurrency, so that the rows measure the service as it runs for its users, after the JIT has compiled its request path
/// at full optimisation (profiled: 12% of the service's CPU went to the JIT in the first 40 s under load, none after).
/// The embed rows are also run with --texts-per-request distinct texts in each request (default 8; 1 leaves them out): a client
/// that batches its own texts shares the per-request work among them. Canvases/s counts every text.
/// Usage: dotnet run -c Release --project benchmarks -- service [--model DIR|random-b16|random-s16] [--int8] [--seconds 8] [--warmup 20] [--concurrency 1,8,32] [--texts-per-request 8] [--max-batch 16]
/// </summary>
static class ServiceBench
{
    public static async Task RunAsync(string[] args, bool quick)
    {
        var repo = FindRepo();
        var modelPath = Bench.OptionValue(args, "--model") ?? Path.Combine(repo, "models", "clippo-ti16-gen");
        if (modelPath is "random-b16" or "random-s16")
        {
            // A random model of that shape with the shaped profile (speed does not depend on the weights).
            var arch = modelPath == "random-b16" ? new VitArchitecture(768, 12, 12, 3072, 16, 224, PoolType.Map, 768) : new VitArchitecture(384, 12, 6, 1536, 16, 224, PoolType.Map, 384);
            var dir = Path.Combine(Path.GetTempPath(), $"vqaapi-bench-{modelPath}-{Environment.ProcessId}");
            CheckpointConverter.Convert(RandomCheckpoint.Create(arch, 1), modelPath, dir, new ConvertOptions { RenderProfile = "shaped", Id = modelPath, Overwrite = true });
            if (args.Contains("--int8"))
                dir = ModelQuantizer.Quantize(ModelDirectory.Load(dir), dir + "-int8", new QuantizeOptions { Overwrite = true }, []).Path;
            modelPath = dir;
        }
        double seconds = double.Parse(Bench.OptionValue(args, "--seconds") ?? (quick ? "3" : "8"), System.Globalization.CultureInfo.InvariantCulture);
        double warmup = double.Parse(Bench.OptionValue(args, "--warmup") ?? (quick ? "3" : "20"), System.Globalization.CultureInfo.InvariantCulture);
        var levels = (Bench.OptionValue(args, "--concurrency") ?? (quick ? "1,8" : "1,8,32")).Split(',').Select(int.Parse).ToArray();
        int textsPerRequest = int.Parse(Bench.OptionValue(args, "--texts-per-request") ?? "8", System.Globalization.CultureInfo.InvariantCulture);
        if (textsPerRequest < 1) throw new ArgumentException("--texts-per-request: at least 1 (1 leaves the batched embed rows out)");
        var model = ModelDirectory.Load(modelPath);
        // The service's Encoder:MaxBatch (its default is 16), the bare encoder's largest batch too.
        int maxBatch = int.Parse(Bench.OptionValue(args, "--max-batch") ?? "16", System.Globalization.CultureInfo.InvariantCulture);
        if (maxBatch < 1) throw new ArgumentException("--max-batch: at least 1");
        var scene = File.ReadAllBytes(Path.Combine(repo, "docs", "tour", "scene.png"));

        Console.WriteLine();
        Console.WriteLine($"## The service at saturation vs the bare encoder: {model.Manifest.Id} ({model.Manifest.WeightsDType}), CPU ({Environment.ProcessorCount} cores), {seconds:F0} s per row after {warmup:F0} s of warm-up per kind of request");

        // The bare encoder: canvases the service would draw for these requests (text canvases: a VQA canvas has the same
        // size and costs the encoder the same).
        var canvases = new ModelCanvases(model.Manifest, UnifontFont.Default);
        int length = canvases.Length;
        var textBatch = new float[maxBatch * length];
        for (int i = 0; i < maxBatch; i++) canvases.RenderText(DistinctText(i), textBatch.AsSpan(i * length, length));
        // The bare encoder's best: both ways it can run here (one session with ONNX Runtime's own threading; as the service
        // configures it, where a small model runs one single-threaded batch per core, EncoderOptions.For) at batches of 1, 2,
        // 4 and MaxBatch, as given (LargeModelCpuMaxBatch 0; on some models and days a batch of 16 ran slower than a batch of
        // 1, and the service runs a large model on the CPU in calls of at most Encoder:LargeModelCpuMaxBatch, 2 by default).
        // The batched rows are compared with the fastest of them all, concurrency 1 with one canvas at a time.
        var own = new EncoderOptions { UseCuda = false, MaxBatch = maxBatch, LargeModelCpuMaxBatch = 0, WarmUp = false, SmallModelMegaMultiplyAdds = 0 };
        var served = new EncoderOptions { UseCuda = false, MaxBatch = maxBatch, LargeModelCpuMaxBatch = 0, WarmUp = false }.For(model.Manifest.Architecture, onCpu: true, Environment.ProcessorCount);
        int[] sizes = new[] { 1, 2, 4, maxBatch }.Where(b => b <= maxBatch).Distinct().ToArray();
        var ownRates = sizes.Select(b => BareEncoder(model, own, textBatch.AsSpan(0, b * length).ToArray(), seconds)).ToArray();
        Console.WriteLine($"bare encoder, one session with ONNX Runtime's threading: {string.Join(", ", sizes.Select((b, i) => $"{ownRates[i]:F1} canvases/s at batch {b}"))}");
        double bareOne = ownRates[0], bareText = ownRates.Max();
        if (served.Workers > 1 && sizes.Length > 1)
        {
            // Only batched rows: one canvas at a time (concurrency 1) cannot keep two batches running.
            var servedRates = sizes[1..].Select(b => BareEncoder(model, served, textBatch.AsSpan(0, b * length).ToArray(), seconds)).ToArray();
            Console.WriteLine($"bare encoder as the service runs it ({served.Workers} single-threaded batches at once): {string.Join(", ", sizes[1..].Select((b, i) => $"{servedRates[i]:F1} canvases/s at batch {b}"))}");
            bareText = Math.Max(bareText, servedRates.Max());
        }
        Console.WriteLine($"reference: {bareText:F1} canvases/s for the batched rows, {bareOne:F1} for concurrency 1");

        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "VqaApi.dll"), "--urls", $"http://127.0.0.1:{port}",
            "--Encoder:UseCuda=false", $"--Encoder:MaxBatch={maxBatch}", $"--Model:Path={Path.GetFullPath(modelPath)}", "--Logging:LogLevel:Default=Warning",
            "--Clients:MaxConcurrentRequests=256", "--Clients:MaxQueuedRequests=1024", "--Inference:MaxConcurrentRequests=256", "--Inference:MaxQueuedRequests=1024",
            "--Telemetry:Metrics=false", $"--Collections:Root={Path.Combine(Path.GetTempPath(), "vqaapi-bench-collections-" + port)}",
            .. args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains(':') && a.Contains('='))]) // service settings, e.g. --Encoder:AllowSpinning=false
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"service: {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        try
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(90); ; await Task.Delay(200))
            {
                try { if ((await http.GetAsync("/readyz")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                if (DateTime.UtcNow > deadline || process.HasExited) throw new InvalidOperationException("the service did not become ready");
            }
            var settings = args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains(':') && a.Contains('=')).ToList();
            if (settings.Count > 0) Console.WriteLine($"service settings: {string.Join(" ", settings)}");
            bool vqa = model.Manifest.RenderProfile.Kind == "shaped";
            if (vqa && !(await http.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/v1/heads"))!.Any(h => h.GetProperty("task").GetString() == "vqa"))
            {
                // A model without a VQA head (a random one): fit a small one on the tour scene, so the VQA rows run the head path.
                var examples = Enumerable.Range(0, 8).Select(i => new { label = i % 2 == 0 ? "yes" : "no", question = DistinctQuestion(i), image = new { data = Convert.ToBase64String(scene) } });
                var fit = await http.PostAsJsonAsync("/v1/heads", new { name = "bench-vqa", task = "vqa", validation_fraction = 0, examples });
                if (!fit.IsSuccessStatusCode) throw new InvalidOperationException($"fitting a VQA head failed: {(int)fit.StatusCode} {await fit.Content.ReadAsStringAsync()}");
                Console.WriteLine("(the model has no VQA head: the VQA rows use a small one fitted on the tour scene first)");
            }
            Console.WriteLine();
            Console.WriteLine("| request | concurrency | requests | canvases/s | % of bare encoder | p50 ms | p99 ms | errors |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            int counter = 0;
            // One canvas per request (what the issue's goal is about), and a client that sends its texts in batches: the
            // per-request work (HTTP, JSON, the handler) is then shared by textsPerRequest canvases.
            var kinds = new List<(string Name, int Canvases, Func<HttpRequestMessage> Make)>
            {
                ("embed, one distinct text", 1, () => new HttpRequestMessage(HttpMethod.Post, "/v1/embed")
                    { Content = JsonContent.Create(new { texts = new[] { DistinctText(Interlocked.Increment(ref counter)) } }) }),
            };
            if (textsPerRequest > 1)
                kinds.Add(($"embed, {textsPerRequest} distinct texts per request", textsPerRequest, () => new HttpRequestMessage(HttpMethod.Post, "/v1/embed")
                    { Content = JsonContent.Create(new { texts = Enumerable.Range(0, textsPerRequest).Select(_ => DistinctText(Interlocked.Increment(ref counter))).ToArray() }) }));
            if (vqa)
                kinds.Add(("VQA, tour scene, distinct question", 1, () =>
                {
                    var form = new MultipartFormDataContent
                    {
                        { new ByteArrayContent(scene), "image", "scene.png" },
                        { new StringContent(DistinctQuestion(Interlocked.Increment(ref counter))), "question" },
                    };
                    return new HttpRequestMessage(HttpMethod.Post, "/v1/vqa") { Content = form };
                }));
            foreach (var (name, perRequest, make) in kinds)
            {
                await Drive(http, make, levels.Max(), warmup); // the JIT's tiers settle
                foreach (int concurrency in levels)
                {
                    await Drive(http, make, concurrency, Math.Min(2, seconds / 4)); // warm-up
                    var (requests, requestRate, p50, p99, errors) = await Drive(http, make, concurrency, seconds);
                    double rate = requestRate * perRequest;
                    double bare = concurrency == 1 && perRequest == 1 ? bareOne : bareText; // one request of several texts is batched
                    Console.WriteLine($"| {name} | {concurrency} | {requests} | {rate:F1} | {100 * rate / bare:F0}% | {p50:F1} | {p99:F1} | {errors} |");
                }
            }
            Console.WriteLine($"(% of bare encoder: against its best at batch 1 for concurrency 1, where nothing can be batched, and against its best over both ways and batches {string.Join(", ", sizes)} above it.)");
        }
        finally
        {
            if (!process.HasExited) process.Kill(true);
            await process.WaitForExitAsync();
        }
    }

    static string DistinctText(int i) => $"Item {i}: a small red circle beside a blue square, seen from above, number {i * 7919 % 10007}.";
    static string DistinctQuestion(int i) => $"How many shapes are there? ({i})";

    /// <summary>The bare encoder: <paramref name="options"/>.Workers threads each running <paramref name="batch"/> again and
    /// again on one shared session (as the service's workers do), canvases a second over all of them.</summary>
    static double BareEncoder(ModelDirectory model, EncoderOptions options, float[] batch, double seconds)
    {
        var encoder = Encoder.Create(model, options, NullLogger.Instance);
        try
        {
            int size = batch.Length / encoder.CanvasLength;
            encoder.Run(batch);
            int runs = 0;
            var sw = Stopwatch.StartNew();
            var threads = Enumerable.Range(0, options.Workers).Select(_ => new Thread(() =>
            {
                for (int mine = 0; mine < 2 || sw.Elapsed.TotalSeconds < seconds; mine++) { encoder.Run(batch); Interlocked.Increment(ref runs); }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            return runs * size / sw.Elapsed.TotalSeconds;
        }
        finally { encoder.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    static async Task<(int Requests, double Rate, double P50, double P99, int Errors)> Drive(HttpClient http, Func<HttpRequestMessage> make, int concurrency, double seconds)
    {
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        int errors = 0;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (stop.Elapsed.TotalSeconds < seconds && !(errors > 100 && latencies.IsEmpty)) // a service that only refuses: stop, the first error is printed
            {
                var started = Stopwatch.GetTimestamp();
                using var request = make();
                using var response = await http.SendAsync(request);
                await response.Content.LoadIntoBufferAsync();
                if (response.StatusCode == HttpStatusCode.OK) latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                else if (Interlocked.Increment(ref errors) == 1)
                    Console.Error.WriteLine($"first error: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }));
        double elapsed = stop.Elapsed.TotalSeconds;
        var sorted = latencies.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        return (sorted.Length, sorted.Length / elapsed, Percentile(0.50), Percentile(0.99), errors);
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VqaApi.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }
}
