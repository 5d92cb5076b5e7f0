using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;

namespace VqaApi.Api.Inputs;

/// <summary>
/// Admission by bytes for decoded images across the whole process: a decode first reserves the peak bytes its header says
/// it will hold (<c>Limits:MaxDecodedBytesInFlight</c> in all), waiting in order of arrival, at most
/// <c>Limits:DecodeWaitSeconds</c>; a request that cannot get its bytes in time is answered 503 with Retry-After.
/// </summary>
public sealed class DecodeGate
{
    private readonly IOptions<LimitsOptions> options;
    private readonly VqaMetrics _metrics;

    public DecodeGate(IOptions<LimitsOptions> options, VqaMetrics metrics)
    {
        this.options = options;
        _metrics = metrics;
        metrics.Observe("vqa.decode.held_bytes", () => InFlight, "By", "Decoded-image bytes held now");
    }

    private readonly Lock _lock = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> _waiting = new();
    private long _inFlight;

    public long InFlight { get { lock (_lock) return _inFlight; } }

    public async Task AcquireAsync(long bytes, CancellationToken ct)
    {
        var limits = options.Value;
        if (bytes > limits.MaxDecodedBytesInFlight)
            throw ApiProblem.TooLarge($"the image needs {bytes:N0} bytes to decode; the service decodes at most {limits.MaxDecodedBytesInFlight:N0} at once (Limits:MaxDecodedBytesInFlight)", "image_too_large_to_decode");
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (_lock)
        {
            if (_waiting.Count == 0 && _inFlight + bytes <= limits.MaxDecodedBytesInFlight)
            {
                _inFlight += bytes;
                _metrics.Admitted(bytes);
                return;
            }
            node = _waiting.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }
        try
        {
            await node.Value.Item2.Task.WaitAsync(TimeSpan.FromSeconds(limits.DecodeWaitSeconds), ct);
            _metrics.Admitted(bytes);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (_lock)
            {
                if (node.List is not null) _waiting.Remove(node);
                else _inFlight -= bytes; // granted just as the wait ended: give it back
                Wake();
            }
            if (e is OperationCanceledException) throw;
            throw new ApiProblem(503, "Busy decoding images",
                $"other requests hold the memory for decoded images (Limits:MaxDecodedBytesInFlight); retry shortly", "decode_busy") { RetryAfterSeconds = 1 };
        }
    }

    /// <summary>Gives bytes back; <paramref name="garbage"/>: they were one image's managed pixels, now unreferenced, which
    /// count toward the next full collection when the image is at least <c>Limits:CollectImagesOfAtLeastBytes</c>.</summary>
    public void Release(long bytes, bool garbage = true)
    {
        if (bytes <= 0) return;
        bool counted = garbage && bytes >= options.Value.CollectImagesOfAtLeastBytes;
        lock (_lock)
        {
            _inFlight -= bytes;
            if (counted) _garbage += bytes;
            Wake();
        }
    }

    /// <summary>Released bytes that count toward the next full collection (for tests and metrics).</summary>
    public long Garbage { get { lock (_lock) return _garbage; } }

    /// <summary>
    /// Called before a decode: decoded pixels are large managed arrays, and once released images add up to
    /// <c>Limits:CollectAfterReleasedBytes</c> a full collection returns their memory before the next image takes its own, rather
    /// than when the collector next runs on its own (which, with server GC, let one request of sixteen 40-megapixel
    /// images grow RSS by 731 MiB instead of the 300 MiB it may hold).
    /// </summary>
    public void CollectReleased()
    {
        lock (_lock)
        {
            if (_garbage < options.Value.CollectAfterReleasedBytes) return;
            _garbage = 0;
        }
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true); // Aggressive: freed memory goes back to the OS now
        Interlocked.Increment(ref _collections);
    }

    /// <summary>Full collections <see cref="CollectReleased"/> has run.</summary>
    public long Collections => Interlocked.Read(ref _collections);
    private long _garbage, _collections;

    /// <summary>Grants waiters in order while they fit (the caller holds the lock).</summary>
    private void Wake()
    {
        long max = options.Value.MaxDecodedBytesInFlight;
        while (_waiting.First is { } first && _inFlight + first.Value.Bytes <= max)
        {
            _waiting.RemoveFirst();
            _inFlight += first.Value.Bytes;
            first.Value.Ready.TrySetResult();
        }
    }
}
