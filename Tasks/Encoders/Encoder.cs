using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Encoders;

/// <summary>What the encoder computed for one canvas.</summary>
public sealed record EncoderResult(float[] Embedding, float[] PreLogits);

/// <summary>The queue of canvases is full; the client should retry after <see cref="RetryAfterSeconds"/>.</summary>
public sealed class EncoderBusyException(int retryAfterSeconds)
    : Exception($"the encoder queue is full; retry in {retryAfterSeconds} s")
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}

/// <summary>
/// One shared ONNX Runtime session for a model directory, with cross-request micro-batching: a free worker takes every
/// queued canvas (up to <see cref="EncoderOptions.MaxBatch"/>) into one run, so canvases that arrive while the workers
/// run share the next batch; the first canvas of a batch may also wait <see cref="EncoderOptions.MaxWaitMilliseconds"/>
/// (0 by default) for company.
/// </summary>
public sealed class Encoder : IAsyncDisposable
{
    private readonly InferenceSession _session;
    private readonly EncoderOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _stopping = new();
    private int _queued;
    private long _batches, _canvases;

    private Encoder(ModelDirectory model, InferenceSession session, string provider, string? providerNote, EncoderOptions options, ILogger logger)
    {
        Model = model;
        _session = session;
        ExecutionProvider = provider;
        ExecutionProviderNote = providerNote;
        _options = options;
        _logger = logger;
        var input = model.Manifest.Input;
        CanvasLength = input.Height * input.Width * input.Channels;
        _workers = Enumerable.Range(0, options.Workers).Select(_ => Task.Run(WorkLoop)).ToArray();
    }

    public ModelDirectory Model { get; }
    public string ExecutionProvider { get; }
    /// <summary>Why CUDA is not in use, when it was asked for.</summary>
    public string? ExecutionProviderNote { get; }
    /// <summary>Floats in one canvas: height x width x 3.</summary>
    public int CanvasLength { get; }
    public int EmbeddingDim => Model.Manifest.Architecture.EmbeddingDim;
    public int QueuedCanvases => Volatile.Read(ref _queued);
    public long BatchesRun => Interlocked.Read(ref _batches);
    public long CanvasesEncoded => Interlocked.Read(ref _canvases);

    public static Encoder Create(ModelDirectory model, EncoderOptions options, ILogger logger)
    {
        string provider = "CPU";
        string? note = null;
        InferenceSession? session = null;
        if (options.UseCuda && MissingCudaLibrary() is { } missing)
        {
            note = $"CUDA execution provider not tried: {missing} is not installed (ONNX Runtime 1.31 needs CUDA 13 and cuDNN 9)";
            logger.LogWarning("Model {Model} runs on CPU: {Reason}", model.Manifest.Id, note);
        }
        else if (options.UseCuda)
        {
            try
            {
                using var cudaOptions = SessionOptionsFor(options);
                cudaOptions.AppendExecutionProvider_CUDA(options.CudaDevice);
                session = new InferenceSession(model.EncoderPath, cudaOptions);
                provider = "CUDA";
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                note = "CUDA execution provider did not load: " + FirstLine(e.Message);
                logger.LogWarning("CUDA is not available for model {Model}, running on CPU: {Reason}", model.Manifest.Id, FirstLine(e.Message));
            }
        }
        else note = "CUDA disabled by configuration (Encoder:UseCuda=false)";

        if (session is null)
        {
            var given = options;
            options = options.For(model.Manifest.Architecture, onCpu: true, Environment.ProcessorCount);
            if (options.Workers != given.Workers || options.IntraOpThreads != given.IntraOpThreads)
                logger.LogInformation("Model {Model} is small ({MultiplyAdds:F0} M multiply-adds a canvas, at most Encoder:SmallModelMegaMultiplyAdds): " +
                    "{Workers} workers of one operator thread each, no spinning", model.Manifest.Id,
                    model.Manifest.Architecture.MultiplyAddsPerCanvas() / 1e6, options.Workers);
            else if (options.MaxBatch < given.MaxBatch)
                logger.LogInformation("Model {Model} is large for the CPU ({MultiplyAdds:F0} M multiply-adds a canvas): calls of at most {MaxBatch} " +
                    "canvases (Encoder:LargeModelCpuMaxBatch), in place of Encoder:MaxBatch {Given}", model.Manifest.Id,
                    model.Manifest.Architecture.MultiplyAddsPerCanvas() / 1e6, options.MaxBatch, given.MaxBatch);
            using var cpuOptions = SessionOptionsFor(options);
            session = new InferenceSession(model.EncoderPath, cpuOptions);
            if (model.Manifest.Quantization is { NeedsVnni: true } q && CpuIntegerDotProducts.FullRangeWeightsSafe() == false)
                logger.LogWarning("Model {Model} has full-range int8 weights (quantization.weightLevels {Levels}) and this CPU has no VNNI: ONNX Runtime's " +
                    "integer kernel saturates on them and the embeddings are off (min cosine 0.90 to the float model, bundled model, AVX2-only EPYC). " +
                    "Quantize the float model again without --full-range-weights", model.Manifest.Id, q.WeightLevels);
        }
        logger.LogInformation("Encoder for model {Model} runs on {Provider} (max batch {MaxBatch}, max wait {Wait} ms)",
            model.Manifest.Id, provider, options.MaxBatch, options.MaxWaitMilliseconds);
        return new Encoder(model, session, provider, note, options, logger);
    }

    /// <summary>
    /// The CUDA provider's own dependencies; checking them first avoids ONNX Runtime's loud failed load on
    /// machines without a GPU. When they are present, a failure to start CUDA is still caught and logged.
    /// </summary>
    private static string? MissingCudaLibrary()
    {
        foreach (var library in new[] { "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13", "libcudnn.so.9" })
        {
            if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(library, out var handle)) return library;
            System.Runtime.InteropServices.NativeLibrary.Free(handle);
        }
        return null;
    }

    private static SessionOptions SessionOptionsFor(EncoderOptions options)
    {
        var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        if (options.InterOpThreads > 0) so.InterOpNumThreads = options.InterOpThreads;
        if (!options.AllowSpinning)
        {
            so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            so.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        }
        return so;
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    /// <summary>Runs canvases directly (no queue), in chunks of at most MaxBatch; for the CLI and benchmarks.</summary>
    public EncoderResult[] Run(ReadOnlySpan<float> canvases, CancellationToken cancellationToken = default)
    {
        if (canvases.Length % CanvasLength != 0)
            throw new ArgumentException($"canvas data must be a multiple of {CanvasLength} floats ({Model.Manifest.Input.Height}x{Model.Manifest.Input.Width}x3)");
        int count = canvases.Length / CanvasLength;
        var results = new EncoderResult[count];
        var buffer = ArrayPool<float>.Shared.Rent(Math.Min(count, _options.MaxBatch) * CanvasLength);
        try
        {
            for (int start = 0; start < count; start += _options.MaxBatch)
            {
                int n = Math.Min(_options.MaxBatch, count - start);
                canvases.Slice(start * CanvasLength, n * CanvasLength).CopyTo(buffer);
                using var runOptions = new RunOptions();
                using var reg = cancellationToken.Register(() => runOptions.Terminate = true);
                cancellationToken.ThrowIfCancellationRequested();
                RunInto(buffer, n, runOptions, results.AsSpan(start, n));
            }
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
        return results;
    }

    /// <summary>
    /// Queues canvases (copied now, so the caller may reuse its buffer at once) for micro-batched encoding.
    /// Throws <see cref="EncoderBusyException"/> when the queue cannot take them all.
    /// </summary>
    public Task<EncoderResult[]> EncodeAsync(ReadOnlySpan<float> canvases, CancellationToken cancellationToken = default)
    {
        if (canvases.Length % CanvasLength != 0 || canvases.Length == 0)
            throw new ArgumentException($"canvas data must be a non-zero multiple of {CanvasLength} floats");
        int count = canvases.Length / CanvasLength;
        if (Interlocked.Add(ref _queued, count) > _options.MaxQueuedCanvases)
        {
            Interlocked.Add(ref _queued, -count);
            throw new EncoderBusyException(_options.RetryAfterSeconds);
        }
        var items = new WorkItem[count];
        for (int i = 0; i < count; i++)
        {
            var pixels = ArrayPool<float>.Shared.Rent(CanvasLength);
            canvases.Slice(i * CanvasLength, CanvasLength).CopyTo(pixels);
            items[i] = new WorkItem(pixels, cancellationToken);
            _queue.Writer.TryWrite(items[i]);
        }
        return Gather(items, cancellationToken);
    }

    private static async Task<EncoderResult[]> Gather(WorkItem[] items, CancellationToken cancellationToken)
    {
        var results = new EncoderResult[items.Length];
        for (int i = 0; i < items.Length; i++) results[i] = await items[i].Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return results;
    }

    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        var sw = Stopwatch.StartNew();
        var canvas = new float[CanvasLength];
        await EncodeAsync(canvas, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Encoder for model {Model} warmed up in {Ms} ms", Model.Manifest.Id, sw.ElapsedMilliseconds);
    }

    private async Task WorkLoop()
    {
        var batch = new List<WorkItem>(_options.MaxBatch);
        var buffer = new float[_options.MaxBatch * CanvasLength];
        var reader = _queue.Reader;
        var maxWait = TimeSpan.FromMilliseconds(_options.MaxWaitMilliseconds);
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                batch.Clear();
                long deadline = 0;
                while (batch.Count < _options.MaxBatch)
                {
                    if (reader.TryRead(out var item))
                    {
                        Interlocked.Decrement(ref _queued);
                        if (!item.Take(buffer.AsSpan(batch.Count * CanvasLength, CanvasLength))) continue;
                        batch.Add(item);
                        // The first canvas of a batch waits at most MaxWait for company.
                        if (batch.Count == 1) deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
                        continue;
                    }
                    if (batch.Count == 0) break;
                    var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (remaining <= TimeSpan.Zero) break;
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    wait.CancelAfter(remaining);
                    try { if (!await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false)) break; }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested) { break; }
                }
                if (batch.Count > 0) RunBatch(batch, buffer);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
        // Whatever is left when stopping is cancelled, never left hanging.
        while (reader.TryRead(out var left)) { left.Take(default); left.Completion.TrySetCanceled(); }
        foreach (var item in batch) item.Completion.TrySetCanceled();
    }

    private void RunBatch(List<WorkItem> batch, float[] buffer)
    {
        using var runOptions = new RunOptions();
        // Stop the ONNX run when every caller in the batch has gone away.
        int live = batch.Count;
        var registrations = batch.Select(item => item.CancellationToken.Register(() =>
        {
            if (Interlocked.Decrement(ref live) == 0) runOptions.Terminate = true;
        })).ToList();
        var results = new EncoderResult[batch.Count];
        try
        {
            RunInto(buffer, batch.Count, runOptions, results);
            for (int i = 0; i < batch.Count; i++) batch[i].Completion.TrySetResult(results[i]);
        }
        catch (Exception e)
        {
            foreach (var item in batch)
            {
                if (item.CancellationToken.IsCancellationRequested) item.Completion.TrySetCanceled(item.CancellationToken);
                else item.Completion.TrySetException(e);
            }
            if (!runOptions.Terminate) _logger.LogError(e, "Encoder run of {Count} canvases failed", batch.Count);
        }
        finally
        {
            foreach (var r in registrations) r.Dispose();
        }
    }

    private void RunInto(float[] buffer, int count, RunOptions runOptions, Span<EncoderResult> results)
    {
        var input = Model.Manifest.Input;
        using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            buffer.AsMemory(0, count * CanvasLength), [count, input.Height, input.Width, input.Channels]);
        using var outputs = _session.Run(runOptions, [input.Name], [inputValue],
            [OnnxEncoderBuilder.EmbeddingOutput, OnnxEncoderBuilder.PreLogitsOutput]);
        var embeddings = outputs[0].GetTensorDataAsSpan<float>();
        var preLogits = outputs[1].GetTensorDataAsSpan<float>();
        int e = embeddings.Length / count, d = preLogits.Length / count;
        for (int i = 0; i < count; i++)
            results[i] = new EncoderResult(embeddings.Slice(i * e, e).ToArray(), preLogits.Slice(i * d, d).ToArray());
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _canvases, count);
        EncoderMetrics.BatchSize.Record(count);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _stopping.Cancel();
        try { await Task.WhenAll(_workers).ConfigureAwait(false); } catch (OperationCanceledException) { }
        _session.Dispose();
        _stopping.Dispose();
    }

    private sealed class WorkItem(float[] pixels, CancellationToken cancellationToken)
    {
        private float[]? _pixels = pixels;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<EncoderResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Copies the canvas into the batch and returns its buffer to the pool; false when the caller has gone.</summary>
        public bool Take(Span<float> destination)
        {
            var pixels = Interlocked.Exchange(ref _pixels, null);
            if (pixels is null) return false;
            bool live = !CancellationToken.IsCancellationRequested;
            if (live) pixels.AsSpan(0, destination.Length).CopyTo(destination);
            else Completion.TrySetCanceled(CancellationToken);
            ArrayPool<float>.Shared.Return(pixels);
            return live;
        }
    }
}

/// <summary>The encoder's own instruments (System.Diagnostics.Metrics; the API exports meter "VqaApi.Encoder").</summary>
public static class EncoderMetrics
{
    public const string MeterName = "VqaApi.Encoder";
    private static readonly System.Diagnostics.Metrics.Meter Meter = new(MeterName);

    /// <summary>Canvases per ONNX run: how well micro-batching fills batches.</summary>
    public static readonly System.Diagnostics.Metrics.Histogram<int> BatchSize = Meter.CreateHistogram<int>(
        "vqa.encoder.batch_size", unit: "{canvas}", description: "Canvases per encoder run",
        advice: new System.Diagnostics.Metrics.InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });
}
