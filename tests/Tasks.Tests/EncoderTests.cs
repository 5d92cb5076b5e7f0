using Microsoft.Extensions.Logging.Abstractions;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Tests;

public sealed class EncoderTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private ModelDirectory Model(VitArchitecture arch) =>
        CheckpointConverter.Convert(RandomCheckpoint.Create(arch, 9), "random", _tmp.File($"m{arch.Width}-{arch.ImageSize}"), new ConvertOptions());

    private static readonly VitArchitecture Small = new(32, 1, 2, 64, 8, 32, PoolType.Map, 16);

    [Fact]
    public async Task Concurrent_requests_share_batches_and_get_their_own_results()
    {
        var model = Model(Small);
        await using var encoder = Encoder.Create(model, new EncoderOptions { UseCuda = false, MaxBatch = 16, MaxWaitMilliseconds = 200 }, NullLogger.Instance);
        var canvases = ConversionParityTests.RandomImages(12, 32, seed: 1);
        var expected = encoder.Run(canvases);
        long batchesBefore = encoder.BatchesRun;

        var tasks = Enumerable.Range(0, 12)
            .Select(i => Task.Run(() => encoder.EncodeAsync(canvases.AsSpan(i * encoder.CanvasLength, encoder.CanvasLength))))
            .ToArray();
        var results = await Task.WhenAll(tasks);
        for (int i = 0; i < 12; i++)
            for (int k = 0; k < 16; k++)
                Assert.True(Math.Abs(expected[i].Embedding[k] - results[i][0].Embedding[k]) < 1e-5);
        Assert.True(encoder.BatchesRun - batchesBefore < 12, $"{encoder.BatchesRun - batchesBefore} batches for 12 requests: no batching happened");
        Assert.Equal(0, encoder.QueuedCanvases);
    }

    [Fact]
    public async Task Without_a_wait_a_lone_canvas_runs_at_once_and_canvases_that_queue_meanwhile_share_the_next_batch()
    {
        var model = Model(new VitArchitecture(64, 2, 2, 128, 8, 64, PoolType.Map, 32));
        await using var encoder = Encoder.Create(model, new EncoderOptions { UseCuda = false, MaxBatch = 16, MaxWaitMilliseconds = 0, Workers = 1, SmallModelMegaMultiplyAdds = 0, LargeModelCpuMaxBatch = 0 }, NullLogger.Instance);
        var canvases = ConversionParityTests.RandomImages(12, 64, seed: 2);
        var expected = encoder.Run(canvases);
        long batchesBefore = encoder.BatchesRun;
        var lone = encoder.EncodeAsync(canvases.AsSpan(0, encoder.CanvasLength));
        var rest = encoder.EncodeAsync(canvases.AsSpan(encoder.CanvasLength));
        var results = (await lone).Concat(await rest).ToArray();
        for (int i = 0; i < 12; i++)
            Assert.Equal(expected[i].Embedding, results[i].Embedding, (a, b) => Math.Abs(a - b) < 1e-5);
        long batches = encoder.BatchesRun - batchesBefore;
        Assert.True(batches <= 3, $"{batches} batches for 12 canvases queued at once: the queue was not drained into one batch");
    }

    [Fact]
    public void A_small_model_on_the_cpu_runs_one_single_threaded_worker_per_core_and_a_large_one_small_calls()
    {
        var mini = new VitArchitecture(128, 4, 4, 512, 16, 128, PoolType.Map, null);     // the bundled model: about 61 M
        var ti16 = new VitArchitecture(192, 12, 3, 768, 16, 224, PoolType.Map, null);    // about 1,216 M
        Assert.InRange(mini.MultiplyAddsPerCanvas(), 55_000_000, 65_000_000);
        Assert.InRange(ti16.MultiplyAddsPerCanvas(), 1_150_000_000, 1_300_000_000);
        var given = new EncoderOptions { Workers = 1, IntraOpThreads = 0, AllowSpinning = true, MaxBatch = 8 };

        var small = given.For(mini, onCpu: true, cores: 4);
        Assert.Equal((4, 1, false, 8), (small.Workers, small.IntraOpThreads, small.AllowSpinning, small.MaxBatch));
        Assert.Equal((1, 0, true), (given.Workers, given.IntraOpThreads, given.AllowSpinning)); // the configured options stay as they are
        var large = given.For(ti16, onCpu: true, cores: 4);                              // calls of at most LargeModelCpuMaxBatch (2)
        Assert.Equal((1, 0, true, 2), (large.Workers, large.IntraOpThreads, large.AllowSpinning, large.MaxBatch));
        Assert.Equal(8, given.MaxBatch);
        Assert.Same(given, given.For(mini, onCpu: false, cores: 4));                      // CUDA: as configured
        Assert.Same(given, given.For(ti16, onCpu: false, cores: 4));
        var uncapped = new EncoderOptions { MaxBatch = 8, LargeModelCpuMaxBatch = 0 };
        Assert.Same(uncapped, uncapped.For(ti16, onCpu: true, cores: 4));
        var off = new EncoderOptions { SmallModelMegaMultiplyAdds = 0, LargeModelCpuMaxBatch = 0 };
        Assert.Same(off, off.For(mini, onCpu: true, cores: 4));
        var smallCap = new EncoderOptions { MaxBatch = 2, LargeModelCpuMaxBatch = 4 };   // MaxBatch smaller: it holds
        Assert.Same(smallCap, smallCap.For(ti16, onCpu: true, cores: 4));
        Assert.Equal(64, given.For(mini, onCpu: true, cores: 200).Workers);
    }

    [Fact]
    public async Task A_full_queue_refuses_with_retry_after()
    {
        var model = Model(Small);
        await using var encoder = Encoder.Create(model, new EncoderOptions { UseCuda = false, MaxQueuedCanvases = 2, RetryAfterSeconds = 7 }, NullLogger.Instance);
        var busy = Assert.Throws<EncoderBusyException>(() => { _ = encoder.EncodeAsync(new float[3 * encoder.CanvasLength]); });
        Assert.Equal(7, busy.RetryAfterSeconds);
        Assert.Equal(0, encoder.QueuedCanvases);
        var ok = await encoder.EncodeAsync(new float[2 * encoder.CanvasLength]);
        Assert.Equal(2, ok.Length);
    }

    [Fact]
    public async Task A_cancelled_caller_gets_cancellation_and_the_encoder_keeps_working()
    {
        var model = Model(Small);
        await using var encoder = Encoder.Create(model, new EncoderOptions { UseCuda = false, MaxWaitMilliseconds = 0 }, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => encoder.EncodeAsync(new float[encoder.CanvasLength], cts.Token));
        var ok = await encoder.EncodeAsync(new float[encoder.CanvasLength]);
        Assert.Single(ok);
    }

    [Fact]
    public async Task Cancellation_stops_a_running_onnx_session()
    {
        // Large enough that one run takes far longer than the cancellation delay (128 images of 256 tokens; a batch of 32
        // once finished inside the 50 ms while other test projects ran, and the test failed).
        var model = Model(new VitArchitecture(256, 8, 4, 1024, 8, 128, PoolType.Map, 64));
        await using var encoder = Encoder.Create(model, new EncoderOptions { UseCuda = false, MaxBatch = 128 }, NullLogger.Instance);
        // Cancelled from a thread of its own: a CancellationTokenSource's timer fires on the thread pool, which the blocking Run
        // and the other test projects can starve for seconds on 2 cores (a CI run saw the whole 3 s batch finish first).
        using var cts = new CancellationTokenSource();
        var canceller = new Thread(() => { Thread.Sleep(50); cts.Cancel(); }) { IsBackground = true };
        canceller.Start();
        Assert.ThrowsAny<OperationCanceledException>(() => encoder.Run(new float[128 * encoder.CanvasLength], cts.Token));
        canceller.Join();
        Assert.Single(encoder.Run(new float[encoder.CanvasLength]));
    }
}
