using System.ComponentModel.DataAnnotations;
using VqaApi.Tasks.Checkpoints;

namespace VqaApi.Tasks.Encoders;

/// <summary>ONNX Runtime session and micro-batching settings (section "Encoder").</summary>
public sealed class EncoderOptions
{
    public const string Section = "Encoder";

    /// <summary>Try the CUDA execution provider first; fall back to CPU (logged) when it does not load.</summary>
    public bool UseCuda { get; set; } = true;
    [Range(0, 64)] public int CudaDevice { get; set; }
    /// <summary>Threads inside one operator; 0 lets ONNX Runtime use every core.</summary>
    [Range(0, 1024)] public int IntraOpThreads { get; set; }
    [Range(0, 1024)] public int InterOpThreads { get; set; } = 1;
    /// <summary>Most canvases run in one encoder call.</summary>
    [Range(1, 1024)] public int MaxBatch { get; set; } = 16;
    /// <summary>How long the first canvas of a batch waits for others to join it. 0 (the default): a free worker runs what
    /// is queued at once, and canvases that arrive while the workers run share the next batch; on the bundled model a wait
    /// of 2 ms halved the requests a lone client got (docs/benchmarks.md, 2026-12-06) and gained nothing at saturation.</summary>
    [Range(0, 10_000)] public double MaxWaitMilliseconds { get; set; }
    /// <summary>Most canvases waiting; past it requests are refused with 429.</summary>
    [Range(1, 1_000_000)] public int MaxQueuedCanvases { get; set; } = 512;
    /// <summary>Batches run at once (each uses IntraOpThreads threads).</summary>
    [Range(1, 64)] public int Workers { get; set; } = 1;
    /// <summary>Seconds a refused client is told to wait (Retry-After).</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 1;
    public bool WarmUp { get; set; } = true;
    /// <summary>Let ONNX Runtime's operator threads spin between operators (its default). Spinning saves a little latency on an
    /// idle machine and burns cores that request handling needs on a busy one (session.intra_op.allow_spinning).</summary>
    public bool AllowSpinning { get; set; } = true;
    /// <summary>On the CPU, a model of at most this many million multiply-adds per canvas runs one batch per core, each
    /// with one operator thread and no spinning, in place of <see cref="Workers"/>, <see cref="IntraOpThreads"/> and
    /// <see cref="AllowSpinning"/>: for such a model two operator threads mostly wait for each other (the bundled
    /// 61-million model serves 22-38% more canvases a second this way, docs/benchmarks.md). 0 turns it off (every model
    /// is then large: <see cref="LargeModelCpuMaxBatch"/>); Ti/16 at 224 px is about 1,200, and is large.</summary>
    [Range(0, 1_000_000)] public int SmallModelMegaMultiplyAdds { get; set; } = 200;

    /// <summary>On the CPU, a model above <see cref="SmallModelMegaMultiplyAdds"/> runs calls of at most this many canvases
    /// (or <see cref="MaxBatch"/>, where that is smaller); canvases queued past it go into the next call at once. On two
    /// cores S/16 int8 ran 14-27% slower a canvas in calls of 16 than of 1 or 2 (its activations likely outgrow the caches), and
    /// the service at saturation served 13-33% more canvases a second with calls of at most 2 (docs/benchmarks.md,
    /// 2026-12-07). 0 keeps <see cref="MaxBatch"/> for every model; on CUDA <see cref="MaxBatch"/> always holds.</summary>
    [Range(0, 1024)] public int LargeModelCpuMaxBatch { get; set; } = 2;

    /// <summary>The settings a session for <paramref name="architecture"/> runs with: these, or on the CPU for a small model
    /// (<see cref="SmallModelMegaMultiplyAdds"/>) one single-threaded worker per core without spinning, and for a larger
    /// one calls of at most <see cref="LargeModelCpuMaxBatch"/> canvases.</summary>
    public EncoderOptions For(VitArchitecture architecture, bool onCpu, int cores)
    {
        if (!onCpu) return this;
        if (architecture.MultiplyAddsPerCanvas() > SmallModelMegaMultiplyAdds * 1_000_000L)
        {
            if (LargeModelCpuMaxBatch == 0 || LargeModelCpuMaxBatch >= MaxBatch) return this;
            var large = (EncoderOptions)MemberwiseClone();
            large.MaxBatch = LargeModelCpuMaxBatch;
            return large;
        }
        var small = (EncoderOptions)MemberwiseClone();
        small.Workers = Math.Clamp(cores, 1, 64);
        small.IntraOpThreads = 1;
        small.AllowSpinning = false;
        return small;
    }
}
