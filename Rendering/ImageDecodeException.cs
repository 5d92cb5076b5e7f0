namespace VqaApi.Rendering;

/// <summary>
/// An image that cannot be used. <see cref="Code"/> is a short machine-readable reason (see
/// <see cref="ImageDecodeErrors"/>); <see cref="Exception.Message"/> tells the user what to change.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string code, string message, Exception? inner = null) : base(message, inner) => Code = code;

    public string Code { get; }
}

/// <summary>The values of <see cref="ImageDecodeException.Code"/>.</summary>
public static class ImageDecodeErrors
{
    /// <summary>No bytes at all.</summary>
    public const string Empty = "empty";

    /// <summary>Not one of JPEG, PNG, WebP, GIF, BMP (or not an image).</summary>
    public const string UnsupportedFormat = "unsupported_format";

    /// <summary>A supported format whose data is damaged or truncated.</summary>
    public const string Corrupt = "corrupt";

    /// <summary>Width x height, or one side, above the limits (read from the header, before decoding).</summary>
    public const string TooManyPixels = "too_many_pixels";

    /// <summary>The file itself is larger than allowed.</summary>
    public const string TooLarge = "too_large";
}
