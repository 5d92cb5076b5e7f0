using System.Text.Json;

namespace VqaApi.Tasks.Models;

/// <summary>A model on disk: <c>manifest.json</c> plus the ONNX encoder it names.</summary>
public sealed class ModelDirectory
{
    private ModelDirectory(string path, ModelManifest manifest)
    {
        Path = path;
        Manifest = manifest;
        _card = new Lazy<string?>(() => ReadCard(System.IO.Path.Combine(path, CardFile)));
    }

    private static string? ReadCard(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            var buffer = new byte[MaxCardBytes];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, read);
            if (read == buffer.Length && stream.ReadByte() >= 0) // longer than the bound: cut at the last whole line
                text = text[..Math.Max(0, text.LastIndexOf('\n'))] + "\n\n(The rest of the card is longer than the service shows.)\n";
            return text;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }

    public string Path { get; }
    public ModelManifest Manifest { get; }
    public string EncoderPath => System.IO.Path.Combine(Path, Manifest.Encoder);

    /// <summary>The model card's file name: Markdown beside the manifest, saying what the model knows (optional).</summary>
    public const string CardFile = "README.md";

    /// <summary>The most of a model card that is read (a card is prose; anything longer is cut at a line end).</summary>
    public const int MaxCardBytes = 64 * 1024;

    /// <summary>The model card (README.md in the directory) as Markdown, or null when there is none; read once.</summary>
    public string? Card => _card.Value;

    private readonly Lazy<string?> _card;

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

    /// <summary>
    /// Writes a model directory into a hidden sibling (<c>.NAME.partial-GUID</c>) and moves it into place only when
    /// <paramref name="write"/> has finished, so that a failed or interrupted write never leaves a half-written model.
    /// </summary>
    public static ModelDirectory CreateStaged(string directory, bool overwrite, Action<string> write)
    {
        var target = System.IO.Path.GetFullPath(directory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !overwrite)
            throw new ModelDirectoryException($"'{directory}' already exists and is not empty (pass --overwrite to replace it)");
        var parent = System.IO.Path.GetDirectoryName(target) ?? throw new ModelDirectoryException($"'{directory}' has no parent directory");
        Directory.CreateDirectory(parent);
        var staging = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
            return Load(target);
        }
        catch
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    public static void WriteManifest(string directory, ModelManifest manifest) =>
        File.WriteAllText(System.IO.Path.Combine(directory, ModelManifest.FileName), JsonSerializer.Serialize(manifest, ModelManifest.Json));
}

public sealed class ModelDirectoryException(string message) : Exception(message);
