using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>
/// One collection on disk: <c>collection.json</c>, an append-only log in numbered segments (<c>log.000001.bin</c>, ...), a
/// <c>snapshot.bin</c>, and content-addressed image files (for re-embedding with another model). Writes are acknowledged
/// only after the log is on disk (per the fsync policy). Every SnapshotEveryRecords records the writer starts a new segment
/// and a background task writes the snapshot of the items as they were at that point, then deletes the segments it covers;
/// writes go on meanwhile. Start-up loads the snapshot and replays the segments in order, skipping records the snapshot
/// already holds and dropping only a torn final record of the newest segment. Searches run concurrently with writes.
/// Each vector is held once in memory, in the exact index; items keep only their id, content reference and metadata.
/// </summary>
public sealed partial class Collection : IVectorCollection, IDisposable
{
    public const string InfoFile = "collection.json", SnapshotFile = "snapshot.bin", ImageFolder = "images", HnswFile = "index.hnsw";
    /// <summary>The single log file of collections written before logs had segments; replayed as segment 0.</summary>
    public const string LegacyLogFile = "log.bin";

    /// <summary>Items whose vectors the snapshot writer copies under one read lock (a writer waits at most that long).</summary>
    private const int SnapshotBatch = 256;

    private readonly string _directory;
    private readonly ImageBlobStore _images;
    private readonly CollectionOptions _options;
    private CollectionLog _log = null!;
    private int _logNumber;
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
    private readonly CancellationTokenSource _hnswStop = new();
    private Task? _hnswWorker;
    private readonly ReaderWriterLockSlim _lock = new();
    private readonly Lock _writer = new();
    private long _sequence;
    private int _sinceSnapshot;
    // The background snapshot: it writes the items captured at sequence _snapshotCut, in key (= sequence) order, and has read
    // the vectors of keys up to _snapshotRead. An item among the rest that is replaced or deleted before the snapshot has read
    // its vector leaves a copy of the vector in _retained, dropped once read: at most one copy per item still to be written
    // (all guarded by _lock; the snapshot thread changes _snapshotRead and _retained under the read lock, as nothing else
    // reads them outside the write lock).
    private Task<Exception?>? _snapshotTask;
    private long _snapshotCut = -1;
    private long _snapshotRead = -1;
    private readonly Dictionary<long, float[]> _retained = new();
    private readonly CancellationTokenSource _closing = new();
    private int _snapshotFailures;
    private int _disposed;

    private Collection(string directory, CollectionInfo info, CollectionOptions options)
    {
        _images = new ImageBlobStore(Path.Combine(directory, ImageFolder), options.Fsync);
        _directory = directory;
        Info = info;
        _options = options;
        _index = new ExactIndex(info.Dimensions, options.Float16);
    }

    public CollectionInfo Info { get; }
    public CollectionOptions Options => _options;
    /// <summary>The collection's folder.</summary>
    public string Folder => _directory;
    public bool RecoveredTornRecord => TornRecord is not null;
    /// <summary>What was cut at open: a torn final record of the newest log segment (a write cut by a crash, never
    /// acknowledged), or null. Damage anywhere else makes <see cref="Open"/> throw <see cref="LogDamagedException"/>.</summary>
    public string? TornRecord { get; private set; }
    /// <summary>Snapshots that could not be written (a full disk); the log segments stay until one succeeds.</summary>
    public int SnapshotFailures => Volatile.Read(ref _snapshotFailures);
    /// <summary>A background snapshot is being written (from the write that started it until its task has ended, the HNSW
    /// index save at its end included). Read-only; for monitoring and benchmarks.</summary>
    public bool SnapshotRunning => Volatile.Read(ref _snapshotTask) is { IsCompleted: false };

    /// <summary>Copies of replaced or deleted vectors the running snapshot has still to write (see <see cref="_retained"/>; the
    /// write lock, as the snapshot thread changes it under the read lock). For tests.</summary>
    internal int RetainedVectors
    {
        get
        {
            _lock.EnterWriteLock();
            try { return _retained.Count; }
            finally { _lock.ExitWriteLock(); }
        }
    }

    /// <summary>Test hook: called at the points named by <see cref="CollectionEvent"/>, on the thread doing the work.</summary>
    internal Action<CollectionEvent>? Hook { get; set; }
    /// <summary>For tests: the exact index (the one in-memory copy of the vectors).</summary>
    internal ExactIndex ExactIndex => _index;

    public int Count
    {
        get { _lock.EnterReadLock(); try { return _byId.Count; } finally { _lock.ExitReadLock(); } }
    }

    /// <summary>Creates the collection's folder and info file; on a full or read-only disk nothing is left behind and a
    /// <see cref="CollectionErrorKind.InsufficientStorage"/> error says so (without paths).</summary>
    public static Collection Create(string directory, CollectionInfo info, CollectionOptions options)
    {
        bool existed = Directory.Exists(directory);
        var temp = Path.Combine(directory, InfoFile + ".tmp");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(temp, JsonSerializer.Serialize(info, JsonOptions));
            File.Move(temp, Path.Combine(directory, InfoFile), overwrite: true);
            return Open(directory, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not LogDamagedException)
        {
            VectorIndexShared.TryDelete(temp);
            if (!existed) try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new CollectionException(CollectionErrorKind.InsufficientStorage, $"collection '{info.Name}' could not be created ({StorageErrors.Describe(e)}); nothing was kept");
        }
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static string SegmentPath(string directory, int number) => Path.Combine(directory, $"log.{number:D6}.bin");

    /// <summary>The log segments in a collection folder, oldest first: <c>log.NNNNNN.bin</c> by number, the legacy
    /// <c>log.bin</c> as number 0. The newest is the one being appended to.</summary>
    public static IReadOnlyList<(int Number, string Path)> LogSegments(string directory)
    {
        var segments = new List<(int, string)>();
        foreach (var path in Directory.EnumerateFiles(directory, "log*.bin"))
        {
            var name = Path.GetFileName(path);
            if (name == LegacyLogFile) segments.Add((0, path));
            else if (name.Length > 8 && name.StartsWith("log.", StringComparison.Ordinal) && name.EndsWith(".bin", StringComparison.Ordinal)
                     && int.TryParse(name.AsSpan(4, name.Length - 8), System.Globalization.NumberStyles.None, null, out int n) && n > 0)
                segments.Add((n, path));
        }
        segments.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return segments;
    }

    /// <summary>Loads the snapshot, then replays every log segment in order (records the snapshot holds are skipped), cutting
    /// a torn final record of the newest segment. Vectors are read into one reused buffer and copied into the exact index.</summary>
    public static Collection Open(string directory, CollectionOptions options)
    {
        var info = JsonSerializer.Deserialize<CollectionInfo>(File.ReadAllText(Path.Combine(directory, InfoFile)), JsonOptions)
                   ?? throw new InvalidDataException($"{directory}/{InfoFile} is empty");
        VectorIndexShared.TryDelete(Path.Combine(directory, SnapshotFile + ".tmp")); // a snapshot cut short by a crash
        var collection = new Collection(directory, info, options);
        try
        {
            long snapshotSequence = 0;
            var snapshotPath = Path.Combine(directory, SnapshotFile);
            if (File.Exists(snapshotPath))
            {
                using var s = new FileStream(snapshotPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                CollectionLog.Read(s, (r, v) =>
                {
                    collection.Apply(r, v);
                    snapshotSequence = Math.Max(snapshotSequence, r.Sequence);
                }, out var damage);
                // A snapshot is renamed into place whole: any damage in it, even at its end, is damage.
                if (damage is not null) throw new LogDamagedException(snapshotPath, damage with { TornTail = false });
            }

            int replayed = 0;
            void Replay(LogRecord r, ReadOnlySpan<float> v)
            {
                if (r.Sequence <= snapshotSequence) return; // an older segment left behind after the snapshot was renamed
                collection.Apply(r, v);
                replayed++;
            }
            var segments = LogSegments(directory);
            var covered = new List<string>();
            for (int i = 0; i < segments.Count - 1; i++)
            {
                // Older segments were forced to disk before a newer one was created: only the newest may end torn.
                long newest = 0;
                using var s = new FileStream(segments[i].Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                CollectionLog.Read(s, (r, v) => { newest = Math.Max(newest, r.Sequence); Replay(r, v); }, out var damage);
                if (damage is not null) throw new LogDamagedException(segments[i].Path, damage with { TornTail = false });
                if (newest <= snapshotSequence) covered.Add(segments[i].Path);
            }
            collection._logNumber = segments.Count == 0 ? 1 : segments[^1].Number;
            var newestPath = segments.Count == 0 ? SegmentPath(directory, 1) : segments[^1].Path;
            collection._log = CollectionLog.Open(newestPath, options.Fsync, Replay, out var torn);
            collection.TornRecord = torn?.Describe(Path.GetFileName(newestPath));
            collection._sinceSnapshot = replayed;
            // Left by a crash between a snapshot's rename and the deletion of the segments it covers.
            foreach (var path in covered) VectorIndexShared.TryDelete(path);
            collection.StartHnsw(loadSaved: true);
            return collection;
        }
        catch
        {
            collection._log?.Dispose();
            throw;
        }
    }

    private void Apply(LogRecord record, ReadOnlySpan<float> vector)
    {
        _sequence = Math.Max(_sequence, record.Sequence);
        if (_byId.Remove(record.Id, out var old))
        {
            _byKey.Remove(old.Key);
            if (old.Key <= _snapshotCut && old.Key > _snapshotRead)
            {
                // The snapshot being written still needs this vector as it was at its cut.
                var copy = new float[Info.Dimensions];
                if (_index.TryGetVector(old.Key, copy)) _retained[old.Key] = copy;
            }
            _index.Remove(old.Key);
            if (_hnsw is not null) Enqueue(old.Key, add: false);
        }
        if (record.Op != LogRecord.Upsert) return;
        var metadata = record.MetadataJson is null ? default : JsonDocument.Parse(record.MetadataJson).RootElement.Clone();
        // The key is the record's sequence number: unique, and the same after a restart, so a saved HNSW index stays valid.
        var item = new CollectionItem(record.Id, record.Sequence, record.Text, record.ImageSha256, metadata, record.Sequence);
        _byId[item.Id] = item;
        _byKey[item.Key] = item;
        _index.Upsert(item.Key, vector);
        if (_hnsw is not null) Enqueue(item.Key, add: true);
        if (metadata.ValueKind == JsonValueKind.Object) foreach (var p in metadata.EnumerateObject()) _fields.Add(p.Name);
    }

    /// <summary>
    /// The checks of one item that need no embedding (id length, metadata an object within its size limit): callers run
    /// them before they embed anything, and <see cref="Upsert"/> runs them again. Throws <see cref="CollectionException"/>.
    /// </summary>
    public void CheckItem(string id, JsonElement? metadata) => ItemRules.Check(id, metadata, _options);

    /// <summary>
    /// Adds items (replacing existing ids only when <paramref name="upsert"/>); durable when it returns. Every check runs
    /// before anything is stored, and image files written for a write that then fails are removed: a refused or failed
    /// write leaves nothing on disk.
    /// </summary>
    public UpsertResult Upsert(IReadOnlyList<NewItem> items, bool upsert)
    {
        ItemRules.CheckBatch(items, Info, _options);

        lock (_writer)
        {
            int replaced;
            _lock.EnterReadLock();
            try
            {
                replaced = items.Count(i => _byId.ContainsKey(i.Id));
                if (replaced > 0 && !upsert)
                    throw new CollectionException(CollectionErrorKind.Conflict, $"{replaced} id(s) already exist (e.g. '{items.First(i => _byId.ContainsKey(i.Id)).Id}'); send \"upsert\": true to replace them");
                if (_byId.Count + items.Count - replaced > _options.MaxItemsPerCollection)
                    throw new CollectionException(CollectionErrorKind.Invalid, $"collection '{Info.Name}' would exceed {_options.MaxItemsPerCollection:N0} items (Collections:MaxItemsPerCollection)");
            }
            finally { _lock.ExitReadLock(); }

            var records = new List<LogRecord>(items.Count);
            var written = new List<string>();
            try
            {
                foreach (var item in items)
                {
                    string? sha = null;
                    if (item.Image is not null)
                    {
                        sha = _images.Store(item.Image, out bool created);
                        if (created) written.Add(sha);
                    }
                    string? meta = item.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;
                    records.Add(new LogRecord(LogRecord.Upsert, _sequence + records.Count + 1, item.Id, item.Text, sha, meta, item.Vector));
                }
            }
            catch
            {
                RemoveImages(written);
                throw;
            }
            WriteDurably(records, written);
            return new UpsertResult(items.Count - replaced, replaced, _sequence, Count);
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

    /// <summary>Removes image files written for a write that never reached the log (the writer lock is held, so nothing
    /// else refers to them).</summary>
    private void RemoveImages(List<string> created)
    {
        foreach (var sha in created) _images.Remove(sha);
    }

    /// <summary>Log first (the acknowledgement point), then memory; when the log has grown enough, a new segment and a
    /// background snapshot. The caller holds the writer lock. <paramref name="createdImages"/> are removed when the write
    /// fails before it is in the log.</summary>
    private void WriteDurably(List<LogRecord> records, List<string>? createdImages = null)
    {
        // Make room in the exact index, if these records need it, before taking the write lock (a new chunk of storage is
        // allocated while searches go on; under the write lock only the swap is left). Only this writer adds rows. Done before
        // the log append, so that an index that cannot grow fails the write before anything is stored.
        try
        {
            _index.Reserve(_index.Count + records.Count);
            _log.Append(records);
        }
        catch (IOException e)
        {
            RemoveImages(createdImages ?? []);
            throw new CollectionException(CollectionErrorKind.InsufficientStorage, $"the write could not be stored ({StorageErrors.Describe(e)}); nothing of it was kept and the collection is unchanged");
        }
        catch
        {
            RemoveImages(createdImages ?? []);
            throw;
        }
        _lock.EnterWriteLock();
        try { foreach (var r in records) Apply(r, r.Vector); }
        finally { _lock.ExitWriteLock(); }
        if (_hnsw is null && _byId.Count >= _options.HnswThreshold) StartHnsw(loadSaved: false);
        _sinceSnapshot += records.Count;
        if (_sinceSnapshot >= _options.SnapshotEveryRecords && _snapshotTask is not { IsCompleted: false } && !_closing.IsCancellationRequested)
        {
            // The write is already durable in the log; a snapshot that cannot start (a full disk) is retried later.
            try { BeginSnapshot(); }
            catch (IOException) { _sinceSnapshot = _options.SnapshotEveryRecords / 2; Interlocked.Increment(ref _snapshotFailures); }
        }
    }

    /// <summary>The stored bytes of an item's image (by its SHA-256), or null.</summary>
    public byte[]? ReadImage(string sha256) => _images.Read(sha256);

    public CollectionItem? Get(string id)
    {
        _lock.EnterReadLock();
        try { return _byId.GetValueOrDefault(id); }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>A copy of an item's stored embedding, or null when there is no such item. With Collections:Float16 this is the
    /// float16-rounded vector (the only copy kept), not the one that was sent.</summary>
    public float[]? GetVector(string id) => GetWithVector(id)?.Vector;

    /// <summary>An item and a copy of its stored embedding, read together (see <see cref="GetVector"/>).</summary>
    public (CollectionItem Item, float[] Vector)? GetWithVector(string id)
    {
        _lock.EnterReadLock();
        try
        {
            if (!_byId.TryGetValue(id, out var item)) return null;
            var vector = new float[Info.Dimensions];
            if (!_index.TryGetVector(item.Key, vector)) throw new InvalidOperationException($"collection '{Info.Name}': item '{id}' has no vector in the index");
            return (item, vector);
        }
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


    /// <summary>Every live item, for re-embedding.</summary>
    public IReadOnlyList<CollectionItem> All()
    {
        _lock.EnterReadLock();
        try { return _byId.Values.OrderBy(i => i.Sequence).ToList(); }
        finally { _lock.ExitReadLock(); }
    }

    // IVectorCollection: the embedded collection answers from memory (writes wait for the log on disk), so each call completes
    // before it returns.
    // A request that got this collection just before another deleted it finds it gone (404), not a disposed object.
    Task<UpsertResult> IVectorCollection.UpsertAsync(IReadOnlyList<NewItem> items, bool upsert, CancellationToken ct) => Live(() => Upsert(items, upsert));
    Task<bool> IVectorCollection.DeleteAsync(string id, CancellationToken ct) => Live(() => Delete(id));
    Task<CollectionItem?> IVectorCollection.GetAsync(string id, CancellationToken ct) => Live(() => Get(id));
    Task<(CollectionItem Item, float[] Vector)?> IVectorCollection.GetWithVectorAsync(string id, CancellationToken ct) => Live(() => GetWithVector(id));
    Task<IReadOnlyList<CollectionItem>> IVectorCollection.ListAsync(int limit, string? after, CancellationToken ct) => Live(() => List(limit, after));
    Task<byte[]?> IVectorCollection.ReadImageAsync(string sha256, CancellationToken ct) => Live(() => ReadImage(sha256));
    Task<IReadOnlyList<SearchHit>> IVectorCollection.SearchAsync(float[] query, int k, float minScore, MetadataFilter? filter, CancellationToken ct) =>
        Live(() => Search(query, k, minScore, filter));

    Task<IReadOnlySet<string>> IVectorCollection.ExistingAsync(IReadOnlyCollection<string> ids, CancellationToken ct) => Live<IReadOnlySet<string>>(() =>
    {
        _lock.EnterReadLock();
        try { return ids.Where(_byId.ContainsKey).ToHashSet(StringComparer.Ordinal); }
        finally { _lock.ExitReadLock(); }
    });

    private Task<T> Live<T>(Func<T> call)
    {
        if (Volatile.Read(ref _disposed) != 0) throw Gone();
        try { return Task.FromResult(call()); }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0) { throw Gone(); }
    }

    private CollectionException Gone() => new(CollectionErrorKind.NotFound, $"there is no collection '{Info.Name}' (it was deleted meanwhile)");

    async IAsyncEnumerable<StoredItem> IVectorCollection.ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var item in All())
        {
            ct.ThrowIfCancellationRequested();
            if (GetWithVector(item.Id) is not { } stored || stored.Item.Sequence != item.Sequence) continue; // replaced or deleted meanwhile
            var image = item.ImageSha256 is { } sha
                ? ReadImage(sha) ?? throw new CollectionException(CollectionErrorKind.Damaged, $"the stored image of item '{item.Id}' of collection '{Info.Name}' is missing")
                : null;
            yield return new StoredItem(item, stored.Vector, image);
        }
        await Task.CompletedTask;
    }

    /// <summary>Stops a running snapshot (its segments stay, so nothing is lost), lets the HNSW worker go on for up to
    /// Collections:HnswShutdownWaitSeconds, then saves the HNSW index as far as it got: the next start loads it and adds the
    /// items it lacks from the stored vectors.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Task? snapshot;
        lock (_writer)
        {
            _closing.Cancel(); // no new snapshot starts
            snapshot = _snapshotTask;
        }
        try { snapshot?.Wait(); } catch (AggregateException) { }
        _hnswWork.Writer.TryComplete();
        if (_hnswWorker is { } worker)
        {
            bool ended;
            try { ended = worker.Wait(TimeSpan.FromSeconds(_options.HnswShutdownWaitSeconds)); }
            catch (AggregateException) { ended = true; }
            if (!ended)
            {
                _hnswStop.Cancel();
                try { worker.Wait(); } catch (AggregateException) { }
            }
        }
        lock (_hnswLock)
        {
            // Saved even when half built, so the next start tops it up instead of rebuilding it.
            try { _hnsw?.Save(Path.Combine(_directory, HnswFile)); }
            catch (IOException) { }
            _hnsw?.Dispose();
            _hnsw = null;
        }
        _log.Dispose();
        _index.Dispose();
        _lock.Dispose();
        _closing.Dispose();
        _hnswStop.Dispose();
    }
}
