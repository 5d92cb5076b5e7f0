using System.ComponentModel.DataAnnotations;

namespace VqaApi.Retrieval;

/// <summary>Collections (section "Collections").</summary>
public sealed class CollectionOptions
{
    public const string Section = "Collections";

    /// <summary>Where collections live: <c>Embedded</c> (files under <see cref="Root"/>, this machine only) or <c>Postgres</c>
    /// (PostgreSQL with pgvector, <see cref="Postgres"/>; several API replicas share it).</summary>
    public CollectionBackend Backend { get; set; } = CollectionBackend.Embedded;
    /// <summary>The PostgreSQL backend's settings (used when <see cref="Backend"/> is <c>Postgres</c>).</summary>
    public PostgresOptions Postgres { get; set; } = new();

    /// <summary>Folder holding one subfolder per collection; relative to the working directory.</summary>
    [Required] public string Root { get; set; } = "data/collections";
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.Always;
    /// <summary>Items per add request.</summary>
    [Range(1, 100_000)] public int MaxBatch { get; set; } = 256;
    [Range(1, 100_000_000)] public int MaxItemsPerCollection { get; set; } = 5_000_000;
    /// <summary>Log records after which the collection starts a new log segment and writes a snapshot in the background;
    /// the segments the snapshot covers are deleted once it is on disk.</summary>
    [Range(10, 100_000_000)] public int SnapshotEveryRecords { get; set; } = 50_000;
    [Range(1, 1000)] public int MaxTopK { get; set; } = 100;
    [Range(2, 1_000_000)] public int MaxMetadataBytes { get; set; } = 16_384;
    [Range(1, 4096)] public int MaxIdLength { get; set; } = 256;
    /// <summary>Store vectors in the exact index as float16 (half the memory; scores still computed in float32). The exact
    /// index is the only in-memory copy of the vectors, so an embedding read back (item view, search by id, snapshots) is
    /// then the float16-rounded one.</summary>
    public bool Float16 { get; set; }
    /// <summary>From this many items on, searches go through an HNSW index built and updated in the background.</summary>
    [Range(0, int.MaxValue)] public int HnswThreshold { get; set; } = 20_000;
    /// <summary>HNSW vectors as float16.</summary>
    public bool HnswFloat16 { get; set; }
    /// <summary>HNSW search expansion (candidate list size). 0 = automatic: <see cref="HnswAutoSmall"/> below
    /// <see cref="HnswAutoLargeFrom"/> items, <see cref="HnswAutoLarge"/> from there on, and never below 2 x top_k. A positive
    /// value is used as it is.</summary>
    [Range(0, 10_000)] public int HnswExpansionSearch { get; set; }
    /// <summary>Threads that insert into the HNSW index while it is built or catches up in the background (off the request
    /// path; at most <see cref="HnswIndex.MaxAddThreads"/> are used). Default: one per processor.</summary>
    [Range(1, 1024)] public int HnswBuildThreads { get; set; } = Environment.ProcessorCount;
    /// <summary>How long closing a collection lets the background HNSW build go on before stopping it after its current step.
    /// A stopped build is saved as far as it got and topped up from the stored vectors at the next start.</summary>
    [Range(0, 86_400)] public int HnswShutdownWaitSeconds { get; set; } = 30;
    /// <summary>A filtered search of a collection with an HNSW index scores every passing item exactly, instead of searching the
    /// graph, when fewer than this many items are expected to pass (estimated from a sample of 512 items; 0: always the graph).
    /// The default sits where the two cross in the filters benchmark (<c>-- filters</c>; figures in docs/benchmarks.md,
    /// "Filtered search").</summary>
    [Range(0, int.MaxValue)] public int HnswFilterExactBelow { get; set; } = 25_000;

    /// <summary>A copy of these settings for another backend.</summary>
    public CollectionOptions WithBackend(CollectionBackend backend)
    {
        var copy = (CollectionOptions)MemberwiseClone();
        copy.Backend = backend;
        return copy;
    }

    public const int HnswAutoSmall = 128, HnswAutoLarge = 256, HnswAutoLargeFrom = 200_000;

    /// <summary>The search expansion a query for <paramref name="topK"/> results in a collection of <paramref name="items"/> gets.
    /// The two values come from the recall measured by the vector benchmark (docs/benchmarks.md, "What the figures say").</summary>
    public int HnswExpansionFor(int topK, int items) =>
        HnswExpansionSearch > 0 ? HnswExpansionSearch : Math.Max(items < HnswAutoLargeFrom ? HnswAutoSmall : HnswAutoLarge, 2 * topK);
}

/// <summary>The PostgreSQL backend (section "Collections:Postgres").</summary>
public sealed class PostgresOptions
{
    /// <summary>An Npgsql connection string (<c>Host=...;Port=...;Database=...;Username=...;Password=...</c>). Required with the
    /// Postgres backend; the environment variable <c>Collections__Postgres__ConnectionString</c> sets it too.</summary>
    public string? ConnectionString { get; set; }
    /// <summary>The schema holding the service's tables (created when missing).</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "Collections:Postgres:Schema must be a lower-case SQL identifier")]
    public string Schema { get; set; } = "vqa";
    /// <summary>pgvector's HNSW build settings for each collection's index (<c>m</c>, <c>ef_construction</c>).</summary>
    [Range(2, 100)] public int HnswM { get; set; } = 16;
    [Range(4, 1000)] public int HnswEfConstruction { get; set; } = 64;
    /// <summary>Seconds one statement may run before it is cancelled (Npgsql's command timeout).</summary>
    [Range(1, 3600)] public int CommandTimeoutSeconds { get; set; } = 30;
    /// <summary>Seconds to wait for a connection (opening one, or a free one from the pool) before a request fails with 503.</summary>
    [Range(1, 600)] public int ConnectTimeoutSeconds { get; set; } = 5;
}