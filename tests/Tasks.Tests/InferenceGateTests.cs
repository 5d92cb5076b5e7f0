using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Inference;

namespace VqaApi.Tasks.Tests;

public sealed class InferenceGateTests
{
    private static InferenceGate Gate(InferenceOptions o) => new(Options.Create(o));

    [Fact]
    public async Task The_circuit_opens_after_encoder_failures_but_not_after_client_errors()
    {
        // Client-side problems are not failures: if they were, 6 of 6 would open the circuit before the success below.
        var gate = Gate(new InferenceOptions { BreakerMinimumThroughput = 4, BreakerFailureRatio = 0.3, BreakerSamplingSeconds = 30, BreakerBreakSeconds = 30 });
        for (int i = 0; i < 6; i++)
            await Assert.ThrowsAsync<EncoderBusyException>(() => gate.RunAsync<int>(_ => throw new EncoderBusyException(1), default).AsTask());
        Assert.Equal(1, await gate.RunAsync(_ => ValueTask.FromResult(1), default));
        int failures = 0;
        for (; failures < 10; failures++)
        {
            try { await gate.RunAsync<int>(_ => throw new InvalidOperationException("onnx failed"), default); }
            catch (InvalidOperationException) { continue; }
            catch (BrokenCircuitException) { break; }
        }
        Assert.InRange(failures, 3, 9); // opened once failures reached 30% of the sampled calls
        await Assert.ThrowsAsync<BrokenCircuitException>(() => gate.RunAsync(_ => ValueTask.FromResult(1), default).AsTask());
    }

    [Fact]
    public async Task Past_the_concurrency_limit_and_its_queue_requests_are_rejected()
    {
        var gate = Gate(new InferenceOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0 });
        var release = new TaskCompletionSource();
        var running = gate.RunAsync(async _ => { await release.Task; return 1; }, default).AsTask();
        await Assert.ThrowsAsync<RateLimiterRejectedException>(() => gate.RunAsync(_ => ValueTask.FromResult(2), default).AsTask());
        release.SetResult();
        Assert.Equal(1, await running);
        Assert.Equal(3, await gate.RunAsync(_ => ValueTask.FromResult(3), default));
    }

    [Fact]
    public async Task The_timeout_cancels_the_work()
    {
        var gate = Gate(new InferenceOptions { TimeoutSeconds = 0.05 });
        bool cancelled = false;
        await Assert.ThrowsAsync<Polly.Timeout.TimeoutRejectedException>(() => gate.RunAsync(async ct =>
        {
            try { await Task.Delay(5000, ct); }
            catch (OperationCanceledException) { cancelled = true; throw; }
            return 0;
        }, default).AsTask());
        Assert.True(cancelled);
    }
}
