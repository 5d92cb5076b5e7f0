using System.Runtime.InteropServices;
using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>Collection: the background snapshot (the items as they were at a log cut, written beside the log, then the segments it covers deleted).</summary>
public sealed partial class Collection
{
    /// <summary>
    /// Starts a snapshot of the collection as it is now (the caller holds the writer lock and no snapshot is running): the
    /// log moves on to a new segment, the live items are captured (records are immutable; their vectors are read later,
    /// see <see cref="_retained"/>), and a background task writes them. Throws an <see cref="IOException"/>, with nothing
    /// changed, when the new segment cannot be created.
    /// </summary>
    private Task<Exception?> BeginSnapshot()
    {
        if (_log.Length > 0)
        {
            // The old segment must be whole on disk before a newer one exists: replay trusts every segment but the newest.
            _log.FlushToDisk();
            var next = CollectionLog.Create(SegmentPath(_directory, _logNumber + 1), _options.Fsync);
            try { if (_options.Fsync == FsyncPolicy.Always) DirectoryFlush.Flush(_directory); }
            catch (IOException) { next.Dispose(); VectorIndexShared.TryDelete(SegmentPath(_directory, _logNumber + 1)); throw; }
            _log.Dispose();
            _log = next;
            _logNumber++;
        }
        var covered = LogSegments(_directory).Where(s => s.Number < _logNumber).Select(s => s.Path).ToList();
        long cut = _sequence;
        CollectionItem[] items;
        _lock.EnterWriteLock(); // nothing else writes (the caller holds the writer lock); taken for _snapshotCut's readers
        try
        {
            items = _byId.Values.ToArray();
            _snapshotCut = cut;
        }
        finally { _lock.ExitWriteLock(); }
        _sinceSnapshot = 0;
        Hook?.Invoke(CollectionEvent.SnapshotRotated);
        var task = OffThePool(() => WriteSnapshot(items, cut, covered, _closing.Token));
        _snapshotTask = task;
        return task;
    }

    /// <summary>Writes the captured items to snapshot.bin.tmp, forces it to disk, renames it over snapshot.bin, flushes the
    /// folder, and only then deletes the log segments it covers, then saves the HNSW index. Returns the error that stopped it.</summary>
    private Exception? WriteSnapshot(CollectionItem[] items, long cut, List<string> covered, CancellationToken cancel)
    {
        var temp = Path.Combine(_directory, SnapshotFile + ".tmp");
        try
        {
            Array.Sort(items, static (a, b) => a.Sequence.CompareTo(b.Sequence));
            int d = Info.Dimensions;
            var vectors = new float[Math.Min(SnapshotBatch, Math.Max(items.Length, 1)) * d];
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20))
            {
                for (int start = 0; start < items.Length; start += SnapshotBatch)
                {
                    cancel.ThrowIfCancellationRequested();
                    int n = Math.Min(SnapshotBatch, items.Length - start);
                    _lock.EnterReadLock();
                    try
                    {
                        for (int i = 0; i < n; i++)
                        {
                            long key = items[start + i].Key;
                            var row = vectors.AsSpan(i * d, d);
                            if (!_index.TryGetVector(key, row))
                            {
                                if (!_retained.Remove(key, out var kept))
                                    throw new InvalidOperationException($"collection '{Info.Name}': the vector of key {key} is gone before the snapshot read it");
                                kept.CopyTo(row);
                            }
                        }
                        _snapshotRead = items[start + n - 1].Key;
                    }
                    finally { _lock.ExitReadLock(); }
                    for (int i = 0; i < n; i++)
                    {
                        var item = items[start + i];
                        CollectionLog.WriteFramed(file, new LogRecord(LogRecord.Upsert, item.Sequence, item.Id, item.Text, item.ImageSha256,
                            item.Metadata.ValueKind == JsonValueKind.Object ? item.Metadata.GetRawText() : null, null), vectors.AsSpan(i * d, d));
                    }
                    if (start == 0) Hook?.Invoke(CollectionEvent.SnapshotWriting);
                }
                // Deletes after the newest item are not in the items; keep the sequence with a marker delete.
                CollectionLog.WriteFramed(file, new LogRecord(LogRecord.Delete, cut, "\0snapshot", null, null, null, null), default);
                file.Flush(true);
            }
            Hook?.Invoke(CollectionEvent.SnapshotWritten);
            File.Move(temp, Path.Combine(_directory, SnapshotFile), overwrite: true);
            DirectoryFlush.Flush(_directory); // the rename is on disk before the segments it replaces go
            Hook?.Invoke(CollectionEvent.SnapshotRenamed);
            foreach (var segment in covered)
            {
                File.Delete(segment);
                Hook?.Invoke(CollectionEvent.SnapshotSegmentDeleted);
            }
            try { SaveHnsw(); }
            catch (IOException) { } // the index is topped up from the stored vectors at the next start
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // Nothing is lost: the segments stay until a later snapshot covers them.
            VectorIndexShared.TryDelete(temp);
            if (e is not OperationCanceledException) Interlocked.Increment(ref _snapshotFailures);
            return e;
        }
        catch
        {
            VectorIndexShared.TryDelete(temp);
            throw;
        }
        finally
        {
            _lock.EnterWriteLock();
            try
            {
                _snapshotCut = -1;
                _snapshotRead = -1;
                _retained.Clear();
            }
            finally { _lock.ExitWriteLock(); }
            Hook?.Invoke(CollectionEvent.SnapshotEnded);
        }
    }

    /// <summary>Snapshots the collection now and waits until the snapshot is on disk (after any snapshot already running);
    /// throws the <see cref="IOException"/> that stopped it.</summary>
    public void Snapshot()
    {
        while (true)
        {
            var running = Volatile.Read(ref _snapshotTask);
            if (running is { IsCompleted: false })
            {
                running.Wait();
                continue;
            }
            Task<Exception?> mine;
            lock (_writer)
            {
                ObjectDisposedException.ThrowIf(_closing.IsCancellationRequested, this);
                if (_snapshotTask is { IsCompleted: false }) continue;
                mine = BeginSnapshot();
            }
            if (mine.GetAwaiter().GetResult() is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            return;
        }
    }

    /// <summary>For tests: waits for the background snapshot, if one is running.</summary>
    internal void WaitForBackgroundSnapshot() => Volatile.Read(ref _snapshotTask)?.Wait();
}
