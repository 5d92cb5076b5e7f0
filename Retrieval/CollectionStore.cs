using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VqaApi.Retrieval;

/// <summary>All collections under Collections:Root, opened at start-up (no re-embedding: vectors are stored).</summary>
public sealed partial class CollectionStore : ICollectionStore
{
    private readonly CollectionOptions _options;
    private readonly ILogger _logger;
    private readonly string _root;
    private readonly ConcurrentDictionary<string, Collection> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    // Creates one at a time, the caller's check (a quota, which may list the collections) included.
    private readonly SemaphoreSlim _creating = new(1, 1);
    // Collections whose files could not be opened: name -> what is wrong. Refused (Damaged) rather than hidden.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _damaged = new(StringComparer.Ordinal);

    public CollectionStore(IOptions<CollectionOptions> options, ILogger<CollectionStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        _root = Path.GetFullPath(_options.Root);
        Directory.CreateDirectory(_root);
        foreach (var leftover in Directory.EnumerateDirectories(_root, "*.deleting-*")) TryRemoveFolder(leftover); // a delete cut short
        foreach (var leftover in Directory.EnumerateDirectories(_root, ".*.staged-*")) TryRemoveFolder(leftover); // a re-embedding cut short
        foreach (var dir in Directory.EnumerateDirectories(_root))
        {
            var name = Path.GetFileName(dir);
            if (!NamePattern().IsMatch(name) || !File.Exists(Path.Combine(dir, Collection.InfoFile))) continue;
            try
            {
                var collection = Collection.Open(dir, _options);
                _open[name] = collection;
                if (collection.TornRecord is { } torn) _logger.LogWarning("Collection {Name}: dropped {Torn}", name, torn);
                _logger.LogInformation("Collection {Name} loaded: {Count} items, model {Model}", name, collection.Count, collection.Info.Model);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
            {
                // Not served, not overwritten, not deleted through the service: its files stay as they are for salvage.
                var what = e is LogDamagedException ? e.Message : $"{e.GetType().Name}: {e.Message.Replace(dir, name)}";
                _damaged[name] = $"collection '{name}' is damaged and not served: {what}. Its files are left as they are; " +
                                 $"recover every intact record with `vqa salvage --collection {name}` (the damaged files are kept beside it)";
                _logger.LogError("{Problem}", _damaged[name]);
            }
        }
    }

    public CollectionOptions Options => _options;

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")] private static partial Regex NamePattern();

    public static void ValidateName(string name)
    {
        if (!NamePattern().IsMatch(name))
            throw new CollectionException(CollectionErrorKind.Invalid, $"collection name '{name}' is invalid: use 1-64 characters a-z, 0-9, '-' and '_', starting with a letter or digit");
    }

    public IReadOnlyList<Collection> List() => _open.Values.OrderBy(c => c.Info.Name, StringComparer.Ordinal).ToList();

    public Collection Get(string name)
    {
        ValidateName(name);
        if (_open.TryGetValue(name, out var c)) return c;
        RefuseDamaged(name);
        throw new CollectionException(CollectionErrorKind.NotFound, $"there is no collection '{name}'");
    }

    /// <summary>Collections that are on disk but damaged, with what is wrong.</summary>
    public IReadOnlyDictionary<string, string> Damaged => _damaged;

    private void RefuseDamaged(string name)
    {
        if (_damaged.TryGetValue(name, out var problem)) throw new CollectionException(CollectionErrorKind.Damaged, problem);
    }

    /// <summary>Creates the collection, or returns it when it exists for the same model and profile (PUT is idempotent).</summary>
    /// <param name="readsModel">which existing collections' models count as this model (default: the same id only), e.g. the
    /// float model of an int8 one.</param>
    public (Collection Collection, bool Created) Create(string name, string model, string profile, int dimensions, string? owner = null) =>
        CreateAsync(new CollectionInfo(name, model, profile, dimensions, DateTimeOffset.UtcNow, owner)).GetAwaiter().GetResult();

    /// <inheritdoc cref="ICollectionStore.CreateAsync"/>
    public async Task<(Collection Collection, bool Created)> CreateAsync(CollectionInfo info, Func<Task>? beforeCreate = null, Func<string, bool>? readsModel = null)
    {
        var name = info.Name;
        ValidateName(name);
        await _creating.WaitAsync();
        try
        {
            lock (_lock)
            {
                RefuseDamaged(name);
                if (_open.TryGetValue(name, out var existing))
                {
                    ItemRules.RequireSameModel(existing.Info, info, readsModel);
                    return (existing, false);
                }
            }
            if (beforeCreate is not null) await beforeCreate(); // a quota check: no other create runs meanwhile
            lock (_lock)
            {
                var collection = Collection.Create(Path.Combine(_root, name), info, _options);
                _open[name] = collection;
                return (collection, true);
            }
        }
        finally { _creating.Release(); }
    }

    public void Delete(string name)
    {
        var collection = Get(name);
        lock (_lock)
        {
            // Moved aside first, in one step: a folder that cannot be moved (a read-only disk) leaves the collection served and
            // whole; once moved, it is gone from the store even if removing its files fails (a leftover is removed at start-up).
            var dir = Path.Combine(_root, name);
            var trash = Path.Combine(_root, $"{name}.deleting-{Guid.NewGuid():N}");
            try { Directory.Move(dir, trash); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CollectionException(CollectionErrorKind.InsufficientStorage, $"collection '{name}' could not be deleted ({StorageErrors.Describe(e)}); it is unchanged");
            }
            _open.TryRemove(name, out _);
            collection.Dispose();
            TryRemoveFolder(trash);
        }
    }

    /// <summary>Replaces a collection's folder with a fully built one (used by re-embedding).</summary>
    public void Replace(string name, string builtDirectory)
    {
        lock (_lock)
        {
            var target = Path.Combine(_root, name);
            if (_open.TryRemove(name, out var old)) old.Dispose();
            var backup = target + ".old-" + Guid.NewGuid().ToString("N");
            if (Directory.Exists(target)) Directory.Move(target, backup);
            Directory.Move(builtDirectory, target);
            _open[name] = Collection.Open(target, _options);
            if (Directory.Exists(backup)) Directory.Delete(backup, recursive: true);
        }
    }

    public string Root => _root;

    private void TryRemoveFolder(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove {Folder} of a deleted collection ({Problem}); it is removed at the next start", folder, StorageErrors.Describe(e));
        }
    }

    public CollectionBackend Backend => CollectionBackend.Embedded;

    // ICollectionStore: everything is opened in the constructor and answered from memory.
    Task ICollectionStore.StartAsync(CancellationToken ct) => Task.CompletedTask;
    Task<string?> ICollectionStore.ProblemAsync(CancellationToken ct) => Task.FromResult<string?>(null);
    Task<IReadOnlyList<IVectorCollection>> ICollectionStore.ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<IVectorCollection>>(List());
    Task<IVectorCollection> ICollectionStore.GetAsync(string name, CancellationToken ct) => Task.FromResult<IVectorCollection>(Get(name));

    async Task<(IVectorCollection Collection, bool Created)> ICollectionStore.CreateAsync(CollectionInfo info, Func<Task>? beforeCreate, Func<string, bool>? readsModel,
        CancellationToken ct) => await CreateAsync(info, beforeCreate, readsModel);

    Task ICollectionStore.DeleteAsync(string name, CancellationToken ct)
    {
        Delete(name);
        return Task.CompletedTask;
    }

    Task<IVectorCollection> ICollectionStore.CreateStagedAsync(CollectionInfo info, CancellationToken ct)
    {
        ValidateName(info.Name);
        // A folder whose name is no collection name (it starts with '.'): start-up neither serves nor deletes it.
        return Task.FromResult<IVectorCollection>(Collection.Create(Path.Combine(_root, $".{info.Name}.staged-{Guid.NewGuid():N}"), info, _options));
    }

    Task ICollectionStore.ReplaceAsync(IVectorCollection staged, CancellationToken ct)
    {
        if (staged is not Collection built || Path.GetDirectoryName(built.Folder) != _root)
            throw new ArgumentException("the staged collection comes from another store", nameof(staged));
        built.WaitForHnsw(_ => { }, TimeSpan.FromSeconds(1));
        built.Snapshot();
        built.Dispose();
        Replace(built.Info.Name, built.Folder);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var c in _open.Values) c.Dispose();
        _creating.Dispose();
    }
}
