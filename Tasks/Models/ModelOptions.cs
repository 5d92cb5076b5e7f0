using System.ComponentModel.DataAnnotations;

namespace VqaApi.Tasks.Models;

/// <summary>Which model directory the service serves (section "Model").</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>Model directory; a relative path is taken from the working directory.</summary>
    [Required] public string Path { get; set; } = "models/clippo-mini128-gpu-v9";

    /// <summary>
    /// When <see cref="Path"/> holds no model, create a small randomly initialised one there. Its embeddings
    /// are meaningless; it exists only so the service runs before a real model is configured.
    /// </summary>
    public bool CreatePlaceholderIfMissing { get; set; }

    /// <summary>Extra .hex files (e.g. Unifont 9.0.06 BMP and "upper") that override fonts/unifont.hex glyphs.</summary>
    public string[] UnifontHexFiles { get; set; } = [];
}
