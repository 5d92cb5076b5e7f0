using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.RegularExpressions;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Tasks.Heads;


/// <summary>The heads of the served model: by default JSON files under <c>MODEL_DIR/heads/</c>; with the PostgreSQL backend, rows of
/// a table every replica shares (<see cref="IHeadDocuments"/>). Parsed heads are cached by their stored stamp.</summary>
public sealed partial class HeadStore
{
    private readonly IHeadDocuments _documents;
    private readonly HeadModel _model;
    private readonly ConcurrentDictionary<string, (string Stamp, Head Head)> _cache = new(StringComparer.Ordinal);

    public HeadStore(ServedModel model) : this(model.Directory.Path, model.Manifest) { }

    /// <summary>The heads of a model directory that is not being served (conversion, tools), or of a served one kept in
    /// <paramref name="documents"/> (default: the directory's heads/ folder).</summary>
    public HeadStore(string modelDirectory, ModelManifest manifest, IHeadDocuments? documents = null)
    {
        _documents = documents ?? new HeadFiles(Path.Combine(modelDirectory, "heads"));
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

    public IReadOnlyList<Head> List()
    {
        var heads = new List<Head>();
        foreach (var name in _documents.Names())
        {
            if (!NamePattern().IsMatch(name)) continue;
            try { heads.Add(Load(name, requireSameModel: false)); }
            catch (HeadException e) when (e.Kind is HeadErrorKind.Unreadable or HeadErrorKind.NotFound) { } // unreadable ones are skipped in listings; Get names the problem
        }
        return heads;
    }

    public bool Exists(string name)
    {
        ValidateName(name);
        return _documents.Stamp(name) is not null;
    }

    private HeadException NotFound(string name)
    {
        _cache.TryRemove(name, out _);
        return new HeadException(HeadErrorKind.NotFound, $"there is no head '{name}' for model {_model.Id}");
    }

    /// <summary>The head, refused with 409 when it was fitted on another model.</summary>
    public Head Get(string name) => Load(name, requireSameModel: true);

    private Head Load(string name, bool requireSameModel)
    {
        ValidateName(name);
        // The stamp alone decides whether the cached head is current: the document (hundreds of KB for an MLP head) is read
        // and parsed only when it changed, not on every request.
        if (_documents.Stamp(name) is not { } stamp)
            throw NotFound(name);
        if (!_cache.TryGetValue(name, out var entry) || entry.Stamp != stamp)
        {
            if (_documents.Read(name) is not { } document)
                throw NotFound(name);
            Head parsed;
            try { parsed = JsonSerializer.Deserialize<Head>(document.Json, Head.Json) ?? throw new JsonException("empty"); }
            catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
            {
                throw new HeadException(HeadErrorKind.Unreadable, $"{_documents.Describe(name)} is not a valid head: {e.Message}");
            }
            if (parsed.Format > Head.CurrentFormat) throw new HeadException(HeadErrorKind.Unreadable, $"head '{name}' has format {parsed.Format}; this build reads {Head.CurrentFormat}");
            try { _ = parsed.Classifier; } // validates the weight shapes now
            catch (Exception e) when (e is ArgumentException or FormatException) { throw new HeadException(HeadErrorKind.Unreadable, $"head '{name}' has invalid weights: {e.Message}"); }
            entry = (document.Stamp, parsed);
            _cache[name] = entry;
        }
        var head = entry.Head;
        if (requireSameModel && !Serves(head.Model))
            throw new HeadException(HeadErrorKind.Conflict, $"head '{name}' was fitted on model {head.Model}, not on the served model {_model}" +
                (_source is null && head.Model.Id == _quantizedFrom ? $" (an int8 model serves the heads of {_quantizedFrom} only when its fidelity was measured and is within tolerance)" : "") +
                "; refit it on this model");
        return head;
    }

    /// <summary>Stores the head atomically (a file renamed into place, or one row).</summary>
    public void Save(Head head)
    {
        ValidateName(head.Name);
        _documents.Write(head.Name, JsonSerializer.SerializeToUtf8Bytes(head, Head.Json));
        _cache.TryRemove(head.Name, out _);
    }

    /// <summary>The stored bytes of a head (0 when there is none).</summary>
    public long FileBytes(string name)
    {
        ValidateName(name);
        return _documents.Size(name);
    }

    public void Delete(string name)
    {
        ValidateName(name);
        if (!_documents.Delete(name)) throw new HeadException(HeadErrorKind.NotFound, $"there is no head '{name}' for model {_model.Id}");
        _cache.TryRemove(name, out _);
    }
}
