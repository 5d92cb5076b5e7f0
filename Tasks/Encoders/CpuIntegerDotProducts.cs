using System.Runtime.Intrinsics.X86;

namespace VqaApi.Tasks.Encoders;

/// <summary>
/// Whether this CPU multiplies int8 full-range weights right in ONNX Runtime: x86 with VNNI (AVX512-VNNI or AVX-VNNI), or
/// not x86 at all. Without VNNI ONNX Runtime's uint8 x int8 kernel adds products in saturating 16-bit sums, which
/// full-range weights ([-127, 127]) overflow (<see cref="Models.Quantization.WeightLevels"/>).
/// </summary>
public static class CpuIntegerDotProducts
{
    /// <summary>True where full-range int8 weights are safe, false where they saturate, null when it cannot be told.</summary>
    public static bool? FullRangeWeightsSafe()
    {
        if (!X86Base.IsSupported) return true; // ARM and others: not ONNX Runtime's x86 kernels
        if (AvxVnni.IsSupported || Avx10v1.IsSupported) return true;
        try
        {
            return File.Exists("/proc/cpuinfo") ? HasVnniFlag(File.ReadAllText("/proc/cpuinfo")) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>From the text of Linux's /proc/cpuinfo: whether a "flags" line lists avx512_vnni or avx_vnni; null without flags lines.</summary>
    public static bool? HasVnniFlag(string cpuinfo)
    {
        bool sawFlags = false;
        foreach (var line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() != "flags") continue;
            sawFlags = true;
            var flags = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (flags.Contains("avx512_vnni") || flags.Contains("avx_vnni")) return true;
        }
        return sawFlags ? false : null;
    }
}
