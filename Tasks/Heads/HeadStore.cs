using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.RegularExpressions;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Tasks.Heads;


/// <summary>The heads of the served model: JSON files under <c>MODEL_DIR/heads/</c>, written atomically.</summary>
public sealed partial class HeadStore
{
    private readonly string _directory;
    private readonly HeadModel _model;
    private readonly ConcurrentDictionary<string, (DateTime Stamp, Head Head)> _cache = new(StringComparer.Ordinal);

    public HeadStore(ServedModel model) : this(model.Directory.Path, model.Manifest) { }

    /// <summary>The heads of a model directory that is not being served (conversion, tools).</summary>
    public HeadStore(string modelDirectory, ModelManifest manifest)
    {
        _directory = Path.Combine(modelDirectory, "heads");
        _model = ModelKey(manifest);
        // An int8 model serves the heads of the float model it was quantized from when its embeddings stay close to that
        // model's (Quantization.CompatibleWithSource, measured when it was made).
        _source = manifest.Quantization is { CompatibleWithSource: true } q ? new HeadModel(q.FromId, manifest.Source.Sha256, q.FromWeightsDType) : null;
        _quantizedFrom = manifest.Quantization?.FromId;
    }

    private readonly HeadModel? _source;
    private readonly string? _quantizedFrom;

    public HeadModel Model => _model;

    /// <summary>True when a head fitted on <paramref name="model"/> may be used with the served model: the same model, or the
    /// float model the served int8 model was quantized from (within <see cref="Quantization.CompatibleCosine"/>).</summary>
    public bool Serves(HeadModel model) => model == _model || model == _source;

    public static HeadModel ModelKey(ModelManifest manifest) => new(manifest.Id, manifest.Source.Sha256, manifest.WeightsDType);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")] private static partial Regex NamePattern();

    public static void ValidateName(string? name)
    {
        if (name is null || !NamePattern().IsMatch(name))
            throw new HeadException(HeadErrorKind.Invalid, $"head name '{name}' is invalid: use 1-64 characters a-z, 0-9, '-' and '_', starting with a letter or digit");
    }

    private string PathOf(string name) => Path.Combine(_directory, name + ".json");

    public IReadOnlyList<Head> List()
    {
        if (!Directory.Exists(_directory)) return [];
        var heads = new List<Head>();
        foreach (var file in Directory.EnumerateFiles(_directory, "*.json").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!NamePattern().IsMatch(name)) continue;
            try { heads.Add(Load(name, requireSameModel: false)); }
            catch (HeadException) { } // unreadable files are skipped in listings; Get names the problem
        }
        return heads;
    }

    public bool Exists(string name)
    {
        ValidateName(name);
        return File.Exists(PathOf(name));
    }

    /// <summary>The head, refused with 409 when it was fitted on another model.</summary>
    public Head Get(string name) => Load(name, requireSameModel: true);

    private Head Load(string name, bool requireSameModel)
    {
        ValidateName(name);
        var path = PathOf(name);
        if (!File.Exists(path)) { _cache.TryRemove(name, out _); throw new HeadException(HeadErrorKind.NotFound, $"there is no head '{name}' for model {_model.Id}"); }
        var stamp = File.GetLastWriteTimeUtc(path);
        if (!_cache.TryGetValue(name, out var entry) || entry.Stamp != stamp)
        {
            Head parsed;
            try { parsed = JsonSerializer.Deserialize<Head>(File.ReadAllText(path), Head.Json) ?? throw new JsonException("empty"); }
            catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
            {
                throw new HeadException(HeadErrorKind.Unreadable, $"head file heads/{name}.json is not a valid head: {e.Message}");
            }
            if (parsed.Format > Head.CurrentFormat) throw new HeadException(HeadErrorKind.Unreadable, $"head '{name}' has format {parsed.Format}; this build reads {Head.CurrentFormat}");
            try { _ = parsed.Classifier; } // validates the weight shapes now
            catch (Exception e) when (e is ArgumentException or FormatException) { throw new HeadException(HeadErrorKind.Unreadable, $"head '{name}' has invalid weights: {e.Message}"); }
            entry = (stamp, parsed);
            _cache[name] = entry;
        }
        var head = entry.Head;
        if (requireSameModel && !Serves(head.Model))
            throw new HeadException(HeadErrorKind.Conflict, $"head '{name}' was fitted on model {head.Model}, not on the served model {_model}" +
                (_source is null && head.Model.Id == _quantizedFrom ? $" (an int8 model serves the heads of {_quantizedFrom} only when its fidelity was measured and is within tolerance)" : "") +
                "; refit it on this model");
        return head;
    }

    /// <summary>Writes the head next to its final name and renames it into place.</summary>
    public void Save(Head head)
    {
        ValidateName(head.Name);
        var temp = Path.Combine(_directory, $".{head.Name}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(_directory);
            File.WriteAllText(temp, JsonSerializer.Serialize(head, Head.Json));
            File.Move(temp, PathOf(head.Name), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            // What went wrong, without the machine's paths (a client sees this message).
            var why = e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("disk was full", StringComparison.OrdinalIgnoreCase) ? "the disk is full"
                : e is UnauthorizedAccessException || e.Message.Contains("Read-only", StringComparison.OrdinalIgnoreCase) ? "the model folder is not writable"
                : "a storage error";
            throw new HeadException(HeadErrorKind.InsufficientStorage, $"head '{head.Name}' could not be saved ({why}); nothing was kept", e);
        }
        _cache.TryRemove(head.Name, out _);
    }

    /// <summary>The bytes of a head's file (0 when there is none).</summary>
    public long FileBytes(string name)
    {
        ValidateName(name);
        var info = new FileInfo(PathOf(name));
        return info.Exists ? info.Length : 0;
    }

    public void Delete(string name)
    {
        ValidateName(name);
        var path = PathOf(name);
        if (!File.Exists(path)) throw new HeadException(HeadErrorKind.NotFound, $"there is no head '{name}' for model {_model.Id}");
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HeadException(HeadErrorKind.InsufficientStorage, $"head '{name}' could not be deleted (the model folder is not writable); it is unchanged", e);
        }
        _cache.TryRemove(name, out _);
    }
}
