using System.Text.Json;

namespace VqaApi.Tasks.Models;

/// <summary>A model on disk: <c>manifest.json</c> plus the ONNX encoder it names.</summary>
public sealed class ModelDirectory
{
    private ModelDirectory(string path, ModelManifest manifest)
    {
        Path = path;
        Manifest = manifest;
    }

    public string Path { get; }
    public ModelManifest Manifest { get; }
    public string EncoderPath => System.IO.Path.Combine(Path, Manifest.Encoder);

    public static ModelDirectory Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var manifestPath = System.IO.Path.Combine(full, ModelManifest.FileName);
        if (!File.Exists(manifestPath))
            throw new ModelDirectoryException($"'{path}' is not a model directory: it has no {ModelManifest.FileName} (convert a checkpoint with the 'convert' verb)");
        ModelManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(manifestPath), ModelManifest.Json); }
        catch (JsonException e) { throw new ModelDirectoryException($"'{manifestPath}' is not a valid manifest: {e.Message}"); }
        if (manifest is null) throw new ModelDirectoryException($"'{manifestPath}' is empty");
        if (manifest.Format > ModelManifest.CurrentFormat)
            throw new ModelDirectoryException($"'{manifestPath}' has format {manifest.Format}; this build reads format {ModelManifest.CurrentFormat} or older");
        var model = new ModelDirectory(full, manifest);
        if (!File.Exists(model.EncoderPath))
            throw new ModelDirectoryException($"model directory '{path}' names encoder '{manifest.Encoder}', which is missing");
        return model;
    }

    public static void WriteManifest(string directory, ModelManifest manifest) =>
        File.WriteAllText(System.IO.Path.Combine(directory, ModelManifest.FileName), JsonSerializer.Serialize(manifest, ModelManifest.Json));
}

public sealed class ModelDirectoryException(string message) : Exception(message);
