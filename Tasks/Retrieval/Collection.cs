using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace VqaApi.Tasks.Retrieval;

/// <summary>Collections (section "Collections").</summary>
public sealed class CollectionOptions
{
    public const string Section = "Collections";

    /// <summary>Folder holding one subfolder per collection; relative to the working directory.</summary>
    [Required] public string Root { get; set; } = "data/collections";
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.Always;
    /// <summary>Items per add request.</summary>
    [Range(1, 100_000)] public int MaxBatch { get; set; } = 256;
    [Range(1, 100_000_000)] public int MaxItemsPerCollection { get; set; } = 5_000_000;
    /// <summary>Log records after which the collection writes a snapshot and empties its log.</summary>
    [Range(10, 100_000_000)] public int SnapshotEveryRecords { get; set; } = 50_000;
    [Range(1, 1000)] public int MaxTopK { get; set; } = 100;
    [Range(2, 1_000_000)] public int MaxMetadataBytes { get; set; } = 16_384;
    [Range(1, 4096)] public int MaxIdLength { get; set; } = 256;
    /// <summary>Store vectors in the exact index as float16 (half the memory; scores still computed in float32).</summary>
    public bool Float16 { get; set; }
    /// <summary>From this many items on, searches go through an HNSW index built and updated in the background.</summary>
    [Range(0, int.MaxValue)] public int HnswThreshold { get; set; } = 20_000;
    /// <summary>HNSW vectors as float16.</summary>
    public bool HnswFloat16 { get; set; }
    [Range(1, 10_000)] public int HnswExpansionSearch { get; set; } = 128;
    /// <summary>Threads that insert into the HNSW index while it is built or catches up in the background (off the request
    /// path; at most <see cref="HnswIndex.MaxAddThreads"/> are used). Default: one per processor.</summary>
    [Range(1, 1024)] public int HnswBuildThreads { get; set; } = Environment.ProcessorCount;
}

/// <summary>What a collection was created for: the model and render profile its embeddings come from.</summary>
public sealed record CollectionInfo(string Name, string Model, string Profile, int Dimensions, DateTimeOffset CreatedAt);

/// <summary>An item as stored: its id, content reference, metadata and embedding.</summary>
public sealed record CollectionItem(string Id, long Key, string? Text, string? ImageSha256, JsonElement Metadata, float[] Vector, long Sequence);

/// <summary>An item to add, already embedded.</summary>
public sealed record NewItem(string Id, string? Text, byte[]? Image, JsonElement? Metadata, float[] Vector);

public sealed record UpsertResult(int Added, int Replaced, long Sequence);

public sealed record SearchHit(CollectionItem Item, float Score);

/// <summary>
/// One collection on disk: <c>collection.json</c>, an append-only <c>log.bin</c>, a <c>snapshot.bin</c> written every
/// SnapshotEveryRecords records, and content-addressed image files (for re-embedding with another model). Writes
/// are acknowledged only after the log is on disk (per the fsync policy); start-up loads the snapshot and replays
/// the log, dropping only a torn final record. Searches run concurrently with writes.
/// </summary>
public sealed class Collection : IDisposable
{
    public const string InfoFile = "collection.json", LogFile = "log.bin", SnapshotFile = "snapshot.bin", ImageFolder = "images", HnswFile = "index.hnsw";

    private readonly string _directory;
    private readonly CollectionOptions _options;
    private readonly CollectionLog _log;
    private readonly Dictionary<string, CollectionItem> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<long, CollectionItem> _byKey = new();
    private readonly HashSet<string> _fields = new(StringComparer.Ordinal);
    private readonly ExactIndex _index;
    private HnswIndex? _hnsw;
    // Keys written but not yet in the HNSW index: searched exactly until the background worker has added them.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, byte> _hnswBacklog = new();
    private readonly System.Threading.Channels.Channel<(long Key, bool Add)> _hnswWork =
        System.Threading.Channels.Channel.CreateUnbounded<(long, bool)>(new() { SingleReader = true });
    private readonly Lock _hnswLock = new();
    private Task? _hnswWorker;
    private readonly ReaderWriterLockSlim _lock = new();
    private readonly Lock _writer = new();
    private long _sequence;
    private int _sinceSnapshot;

    private Collection(string directory, CollectionInfo info, CollectionOptions options, CollectionLog log)
    {
        _directory = directory;
        Info = info;
        _options = options;
        _log = log;
        _index = new ExactIndex(info.Dimensions, options.Float16);
    }

    public CollectionInfo Info { get; }
    public bool RecoveredTornRecord { get; private set; }
    public int SnapshotFailures { get; private set; }

    public int Count
    {
        get { _lock.EnterReadLock(); try { return _byId.Count; } finally { _lock.ExitReadLock(); } }
    }

    public static Collection Create(string directory, CollectionInfo info, CollectionOptions options)
    {
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, InfoFile + ".tmp");
        File.WriteAllText(temp, JsonSerializer.Serialize(info, JsonOptions));
        File.Move(temp, Path.Combine(directory, InfoFile), overwrite: true);
        return Open(directory, options);
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Loads the snapshot, then replays the log records newer than it.</summary>
    public static Collection Open(string directory, CollectionOptions options)
    {
        var info = JsonSerializer.Deserialize<CollectionInfo>(File.ReadAllText(Path.Combine(directory, InfoFile)), JsonOptions)
                   ?? throw new InvalidDataException($"{directory}/{InfoFile} is empty");
        var snapshotRecords = new List<LogRecord>();
        var snapshotPath = Path.Combine(directory, SnapshotFile);
        if (File.Exists(snapshotPath))
        {
            using var s = File.OpenRead(snapshotPath);
            snapshotRecords = CollectionLog.ReadAll(s, out long good);
            if (good != s.Length) throw new InvalidDataException($"snapshot of collection '{info.Name}' is damaged");
        }
        var log = CollectionLog.Open(Path.Combine(directory, LogFile), options.Fsync, out var logRecords, out bool torn);
        var collection = new Collection(directory, info, options, log) { RecoveredTornRecord = torn };
        long snapshotSequence = snapshotRecords.Count == 0 ? 0 : snapshotRecords.Max(r => r.Sequence);
        foreach (var record in snapshotRecords.Concat(logRecords.Where(r => r.Sequence > snapshotSequence)))
            collection.Apply(record);
        collection._sinceSnapshot = logRecords.Count;
        collection.StartHnsw(loadSaved: true);
        return collection;
    }

    private void Apply(LogRecord record)
    {
        _sequence = Math.Max(_sequence, record.Sequence);
        if (_byId.Remove(record.Id, out var old))
        {
            _byKey.Remove(old.Key);
            _index.Remove(old.Key);
            if (_hnsw is not null) Enqueue(old.Key, add: false);
        }
        if (record.Op != LogRecord.Upsert) return;
        var metadata = record.MetadataJson is null ? default : JsonDocument.Parse(record.MetadataJson).RootElement.Clone();
        // The key is the record's sequence number: unique, and the same after a restart, so a saved HNSW index stays valid.
        var item = new CollectionItem(record.Id, record.Sequence, record.Text, record.ImageSha256, metadata, record.Vector!, record.Sequence);
        _byId[item.Id] = item;
        _byKey[item.Key] = item;
        _index.Upsert(item.Key, item.Vector);
        if (_hnsw is not null) Enqueue(item.Key, add: true);
        if (metadata.ValueKind == JsonValueKind.Object) foreach (var p in metadata.EnumerateObject()) _fields.Add(p.Name);
    }

    /// <summary>Adds items (replacing existing ids only when <paramref name="upsert"/>); durable when it returns.</summary>
    public UpsertResult Upsert(IReadOnlyList<NewItem> items, bool upsert)
    {
        foreach (var item in items)
        {
            if (item.Vector.Length != Info.Dimensions)
                throw new CollectionException(400, $"item '{item.Id}' has a {item.Vector.Length}-dimensional embedding; collection '{Info.Name}' holds {Info.Dimensions}");
            if (string.IsNullOrEmpty(item.Id) || item.Id.Length > _options.MaxIdLength)
                throw new CollectionException(400, $"item ids must have 1 to {_options.MaxIdLength} characters");
            if (item.Metadata is { } m && m.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
                throw new CollectionException(400, $"item '{item.Id}': metadata must be a JSON object");
        }
        var duplicate = items.GroupBy(i => i.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new CollectionException(400, $"id '{duplicate.Key}' appears more than once in the request");

        lock (_writer)
        {
            int replaced;
            _lock.EnterReadLock();
            try
            {
                replaced = items.Count(i => _byId.ContainsKey(i.Id));
                if (replaced > 0 && !upsert)
                    throw new CollectionException(409, $"{replaced} id(s) already exist (e.g. '{items.First(i => _byId.ContainsKey(i.Id)).Id}'); send \"upsert\": true to replace them");
                if (_byId.Count + items.Count - replaced > _options.MaxItemsPerCollection)
                    throw new CollectionException(400, $"collection '{Info.Name}' would exceed {_options.MaxItemsPerCollection:N0} items (Collections:MaxItemsPerCollection)");
            }
            finally { _lock.ExitReadLock(); }

            var records = new List<LogRecord>(items.Count);
            foreach (var item in items)
            {
                string? sha = item.Image is null ? null : StoreImage(item.Image);
                string? meta = item.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;
                if (meta is not null && meta.Length > _options.MaxMetadataBytes)
                    throw new CollectionException(400, $"item '{item.Id}': metadata is larger than {_options.MaxMetadataBytes} bytes (Collections:MaxMetadataBytes)");
                records.Add(new LogRecord(LogRecord.Upsert, _sequence + records.Count + 1, item.Id, item.Text, sha, meta, item.Vector));
            }
            WriteDurably(records);
            return new UpsertResult(items.Count - replaced, replaced, _sequence);
        }
    }

    public bool Delete(string id)
    {
        lock (_writer)
        {
            _lock.EnterReadLock();
            try { if (!_byId.ContainsKey(id)) return false; }
            finally { _lock.ExitReadLock(); }
            WriteDurably([new LogRecord(LogRecord.Delete, _sequence + 1, id, null, null, null, null)]);
            return true;
        }
    }

    /// <summary>Log first (the acknowledgement point), then memory; a snapshot when the log has grown enough.</summary>
    private void WriteDurably(List<LogRecord> records)
    {
        try { _log.Append(records); }
        catch (IOException e)
        {
            throw new CollectionException(507, $"the write could not be stored ({e.Message}); nothing of it was kept and the collection is unchanged");
        }
        _lock.EnterWriteLock();
        try { foreach (var r in records) Apply(r); }
        finally { _lock.ExitWriteLock(); }
        if (_hnsw is null && _byId.Count >= _options.HnswThreshold) StartHnsw(loadSaved: false);
        _sinceSnapshot += records.Count;
        if (_sinceSnapshot >= _options.SnapshotEveryRecords)
        {
            // The write is already durable in the log; a snapshot that fails (a full disk) is retried later.
            try { Snapshot(); }
            catch (IOException) { _sinceSnapshot = _options.SnapshotEveryRecords / 2; SnapshotFailures++; }
        }
    }

    /// <summary>Writes every live item to snapshot.bin (atomically), then empties the log.</summary>
    public void Snapshot()
    {
        lock (_writer)
        {
            var temp = Path.Combine(_directory, SnapshotFile + ".tmp");
            try
            {
                using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    _lock.EnterReadLock();
                    try
                    {
                        foreach (var item in _byId.Values.OrderBy(i => i.Sequence))
                            CollectionLog.WriteFramed(file, new LogRecord(LogRecord.Upsert, item.Sequence, item.Id, item.Text, item.ImageSha256,
                                item.Metadata.ValueKind == JsonValueKind.Object ? item.Metadata.GetRawText() : null, item.Vector));
                    }
                    finally { _lock.ExitReadLock(); }
                    // Deletes after the newest item are not in the items; keep the sequence with a marker delete.
                    CollectionLog.WriteFramed(file, new LogRecord(LogRecord.Delete, _sequence, "\0snapshot", null, null, null, null));
                    file.Flush(true);
                }
                File.Move(temp, Path.Combine(_directory, SnapshotFile), overwrite: true);
                _log.Reset();
                _sinceSnapshot = 0;
                SaveHnsw();
            }
            catch (IOException)
            {
                try { File.Delete(temp); } catch (IOException) { }
                throw;
            }
        }
    }

    private string StoreImage(byte[] image)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(image));
        var folder = Path.Combine(_directory, ImageFolder);
        var path = Path.Combine(folder, sha);
        if (File.Exists(path)) return sha;
        Directory.CreateDirectory(folder);
        var temp = path + ".tmp";
        try
        {
            using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                f.Write(image);
                f.Flush(_options.Fsync == FsyncPolicy.Always);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e)
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw new CollectionException(507, $"the image could not be stored ({e.Message}); nothing was written");
        }
        return sha;
    }

    public byte[]? ReadImage(string sha256)
    {
        var path = Path.Combine(_directory, ImageFolder, sha256);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    public CollectionItem? Get(string id)
    {
        _lock.EnterReadLock();
        try { return _byId.GetValueOrDefault(id); }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Items in id order, after <paramref name="after"/> (exclusive).</summary>
    public IReadOnlyList<CollectionItem> List(int limit, string? after)
    {
        _lock.EnterReadLock();
        try
        {
            return _byId.Values.Where(i => after is null || string.CompareOrdinal(i.Id, after) > 0)
                .OrderBy(i => i.Id, StringComparer.Ordinal).Take(limit).ToList();
        }
        finally { _lock.ExitReadLock(); }
    }

    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, float minScore, MetadataFilter? filter)
    {
        if (query.Length != Info.Dimensions)
            throw new CollectionException(400, $"the query embedding has {query.Length} dimensions; collection '{Info.Name}' holds {Info.Dimensions}");
        _lock.EnterReadLock();
        try
        {
            if (filter is not null)
                foreach (var field in filter.Fields)
                    if (!_fields.Contains(field))
                        throw new CollectionException(400, $"no item of collection '{Info.Name}' has the metadata field '{field}'");
            Func<long, bool>? pass = filter is null ? null : key => _byKey.TryGetValue(key, out var item) && filter.Matches(item.Metadata);
            if (_hnsw is not { } hnsw) return _index.Search(query, k, pass, minScore).Select(h => new SearchHit(_byKey[h.Key], h.Score)).ToList();
            // HNSW for what it holds (stale keys of replaced or deleted items are skipped), exact for the backlog.
            var hits = hnsw.Search(query, k, key => _byKey.ContainsKey(key) && !_hnswBacklog.ContainsKey(key) && (pass is null || pass(key)), minScore).ToList();
            if (!_hnswBacklog.IsEmpty)
                hits.AddRange(_index.Search(query, k, key => _hnswBacklog.ContainsKey(key) && (pass is null || pass(key)), minScore));
            return hits.OrderByDescending(h => h.Score).ThenBy(h => h.Key).Take(k).Select(h => new SearchHit(_byKey[h.Key], h.Score)).ToList();
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>True once every live item is in the HNSW index (false before the threshold or while it catches up).</summary>
    public bool HnswReady => _hnsw is not null && _hnswBacklog.IsEmpty;
    public bool UsesHnsw => _hnsw is not null;

    /// <summary>Creates (or loads the saved) HNSW index once the collection is big enough, and queues what it lacks.</summary>
    private void StartHnsw(bool loadSaved)
    {
        lock (_hnswLock)
        {
            if (_hnsw is not null || _byId.Count < _options.HnswThreshold) return;
            var path = Path.Combine(_directory, HnswFile);
            HnswIndex? hnsw = null;
            if (loadSaved && File.Exists(path))
            {
                try { hnsw = HnswIndex.Load(path, _options.HnswExpansionSearch); }
                catch (Exception e) when (e is InvalidDataException or IOException) { hnsw = null; } // rebuilt below from the stored vectors
                if (hnsw is not null && hnsw.Dimensions != Info.Dimensions) { hnsw.Dispose(); hnsw = null; }
            }
            hnsw ??= new HnswIndex(Info.Dimensions, _options.HnswFloat16, expansionSearch: _options.HnswExpansionSearch);
            _lock.EnterReadLock();
            try
            {
                foreach (var key in _byKey.Keys) if (!hnsw.Contains(key)) { _hnswBacklog[key] = 0; _hnswWork.Writer.TryWrite((key, true)); }
            }
            finally { _lock.ExitReadLock(); }
            _hnsw = hnsw;
            _hnswWorker = Task.Run(HnswLoop);
        }
    }

    private void Enqueue(long key, bool add)
    {
        if (add) _hnswBacklog[key] = 0;
        _hnswWork.Writer.TryWrite((key, add));
    }

    /// <summary>Work items the background worker takes per step (a snapshot, which saves the index, waits at most one step).</summary>
    private const int HnswStepItems = 4096;

    /// <summary>Adds and removes HNSW entries off the request path, a step of queued work at a time, inserting with
    /// HnswBuildThreads threads; the backlog is searched exactly meanwhile.</summary>
    private async Task HnswLoop()
    {
        var reader = _hnswWork.Reader;
        var adds = new List<long>(HnswStepItems);
        var keys = new List<long>(HnswStepItems);
        var inStep = new HashSet<long>(HnswStepItems);
        float[] rows = [];
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            lock (_hnswLock)
            {
                if (_hnsw is not { } hnsw) return;
                adds.Clear();
                keys.Clear();
                inStep.Clear();
                // Keys are sequence numbers, never reused: a remove in this step is of a key added earlier, or of one
                // added in this step whose item is already gone from _byKey (then the add below skips it). So removes go first.
                while (adds.Count < HnswStepItems && reader.TryRead(out var work))
                {
                    if (work.Add) adds.Add(work.Key);
                    else hnsw.Remove(work.Key);
                }
                if (rows.Length < adds.Count * Info.Dimensions) rows = new float[adds.Count * Info.Dimensions];
                _lock.EnterReadLock();
                try
                {
                    foreach (long key in adds)
                        if (_byKey.TryGetValue(key, out var item) && inStep.Add(key))
                        {
                            item.Vector.CopyTo(rows.AsSpan(keys.Count * Info.Dimensions));
                            keys.Add(key);
                        }
                }
                finally { _lock.ExitReadLock(); }
                hnsw.UpsertMany(CollectionsMarshal.AsSpan(keys), rows.AsSpan(0, keys.Count * Info.Dimensions), _options.HnswBuildThreads);
                foreach (long key in adds) _hnswBacklog.TryRemove(key, out _);
                if (!reader.TryPeek(out _)) rows = []; // caught up: do not keep a step's buffer per idle collection
            }
        }
    }

    private void SaveHnsw()
    {
        lock (_hnswLock) _hnsw?.Save(Path.Combine(_directory, HnswFile));
    }

    /// <summary>Every live item, for re-embedding.</summary>
    public IReadOnlyList<CollectionItem> All()
    {
        _lock.EnterReadLock();
        try { return _byId.Values.OrderBy(i => i.Sequence).ToList(); }
        finally { _lock.ExitReadLock(); }
    }

    public void Dispose()
    {
        _hnswWork.Writer.TryComplete();
        try { _hnswWorker?.Wait(TimeSpan.FromSeconds(30)); } catch (AggregateException) { }
        lock (_hnswLock)
        {
            // Saved so the next start loads it instead of rebuilding; a stale one is topped up from the log at start.
            try { if (_hnsw is not null && _hnswBacklog.IsEmpty) _hnsw.Save(Path.Combine(_directory, HnswFile)); }
            catch (IOException) { }
            _hnsw?.Dispose();
            _hnsw = null;
        }
        _log.Dispose();
        _index.Dispose();
        _lock.Dispose();
    }
}
