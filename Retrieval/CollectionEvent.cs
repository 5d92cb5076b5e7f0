namespace VqaApi.Retrieval;

/// <summary>Points in a collection's background work that tests can observe (and pause, to simulate a crash or a slow disk).</summary>
internal enum CollectionEvent
{
    /// <summary>Under the writer lock: a new log segment was started and the items to snapshot were captured.</summary>
    SnapshotRotated,
    /// <summary>The first batch of the snapshot was written to snapshot.bin.tmp.</summary>
    SnapshotWriting,
    /// <summary>snapshot.bin.tmp is complete and on disk, not yet renamed.</summary>
    SnapshotWritten,
    /// <summary>snapshot.bin is in place; the log segments it covers still exist.</summary>
    SnapshotRenamed,
    /// <summary>One covered log segment was deleted.</summary>
    SnapshotSegmentDeleted,
    /// <summary>The background snapshot ended (written, failed or cancelled).</summary>
    SnapshotEnded,
    /// <summary>The background HNSW worker finished a step.</summary>
    HnswStep,
}
