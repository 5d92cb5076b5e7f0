using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VqaApi.Rendering;
using VqaApi.Tasks.Canvases;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Serving;

/// <summary>The model the service answers with: its directory, its shared encoder session, and its canvases.</summary>
public sealed class ServedModel : IAsyncDisposable
{
    private ServedModel(ModelDirectory directory, Encoder encoder, ModelCanvases canvases)
    {
        Directory = directory;
        Encoder = encoder;
        Canvases = canvases;
    }

    public ModelDirectory Directory { get; }
    public ModelManifest Manifest => Directory.Manifest;
    public Encoder Encoder { get; }
    public ModelCanvases Canvases { get; }
    private volatile bool _ready;

    /// <summary>True once the encoder has warmed up; /readyz reports it.</summary>
    public bool Ready { get => _ready; set => _ready = value; }

    public static ServedModel Open(IOptions<ModelOptions> modelOptions, IOptions<EncoderOptions> encoderOptions, ILogger<ServedModel> logger)
    {
        var options = modelOptions.Value;
        var path = Path.GetFullPath(options.Path);
        if (!File.Exists(Path.Combine(path, ModelManifest.FileName)))
        {
            if (!options.CreatePlaceholderIfMissing)
                throw new ModelDirectoryException($"Model:Path '{options.Path}' holds no model and Model:CreatePlaceholderIfMissing is false");
            logger.LogWarning("No model at {Path}; creating the randomly initialised placeholder there", path);
            PlaceholderModel.Create(path);
        }
        var directory = ModelDirectory.Load(path);
        if (directory.Manifest.RandomlyInitialized)
            logger.LogWarning("{Warning}", PlaceholderModel.Warning);
        var font = options.UnifontHexFiles.Length == 0
            ? UnifontFont.Default
            : UnifontFont.Load([Path.Combine(AppContext.BaseDirectory, "fonts", "unifont.hex"), .. options.UnifontHexFiles]);
        var canvases = new ModelCanvases(directory.Manifest, font);
        var encoder = Encoder.Create(directory, encoderOptions.Value, logger);
        return new ServedModel(directory, encoder, canvases);
    }

    public ValueTask DisposeAsync() => Encoder.DisposeAsync();
}
