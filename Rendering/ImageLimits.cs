namespace VqaApi.Rendering;

/// <summary>What an uploaded image may cost before it is decoded.</summary>
public sealed record ImageLimits
{
    /// <summary>Largest accepted file, in bytes.</summary>
    public long MaxEncodedBytes { get; init; } = 20_000_000;

    /// <summary>Largest accepted width x height, checked from the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = 50_000_000;

    /// <summary>Longest accepted side, in pixels.</summary>
    public int MaxSide { get; init; } = 20_000;
}
