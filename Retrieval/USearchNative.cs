using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using Microsoft.Win32.SafeHandles;

namespace VqaApi.Retrieval;

/// <summary>Owns a USearch index (usearch_index_t); freed by Dispose or, if forgotten, by the finalizer.</summary>
internal sealed class USearchHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public USearchHandle() : base(ownsHandle: true) { }

    protected override bool ReleaseHandle()
    {
        nint error = 0;
        USearchNative.usearch_free(handle, ref error);
        return true;
    }
}

/// <summary>P/Invoke declarations for USearch's C API (c/usearch.h), from the native library in the Cloud.Unum.USearch package.</summary>
internal static unsafe partial class USearchNative
{
    const string Library = "libusearch_c";

    /// <summary>usearch_init_options_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct InitOptions
    {
        public MetricKind MetricKind;
        public nint Metric;
        public ScalarKind Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi; // C bool
    }

    public static USearchHandle Create(int dimensions, bool float16, int connectivity, int expansionAdd, int expansionSearch)
    {
        var options = new InitOptions
        {
            MetricKind = MetricKind.Ip,
            Quantization = float16 ? ScalarKind.Float16 : ScalarKind.Float32,
            Dimensions = (nuint)dimensions,
            Connectivity = (nuint)connectivity,
            ExpansionAdd = (nuint)expansionAdd,
            ExpansionSearch = (nuint)expansionSearch,
        };
        nint error = 0;
        var handle = usearch_init(&options, ref error);
        if (error != 0 || handle.IsInvalid)
        {
            handle.Dispose();
            throw new USearchException($"USearch could not create an index: {(error != 0 ? Message(error) : "no index returned")}");
        }
        return handle;
    }

    public static string Message(nint error) => Marshal.PtrToStringUTF8(error) ?? "unknown error";

    public static void Check(nint error)
    {
        if (error != 0) throw new USearchException($"USearch operation failed: {Message(error)}");
    }

    // Checked wrappers. The C functions set *error only on failure, so it starts at zero.
    public static long Size(USearchHandle index) { nint e = 0; var r = usearch_size(index, ref e); Check(e); return (long)r; }
    public static long Capacity(USearchHandle index) { nint e = 0; var r = usearch_capacity(index, ref e); Check(e); return (long)r; }
    public static long DimensionsOf(USearchHandle index) { nint e = 0; var r = usearch_dimensions(index, ref e); Check(e); return (long)r; }
    public static long MemoryUsage(USearchHandle index) { nint e = 0; var r = usearch_memory_usage(index, ref e); Check(e); return (long)r; }
    public static void Reserve(USearchHandle index, long capacity) { nint e = 0; usearch_reserve(index, (nuint)capacity, ref e); Check(e); }
    public static void ChangeExpansionSearch(USearchHandle index, int expansion) { nint e = 0; usearch_change_expansion_search(index, (nuint)expansion, ref e); Check(e); }
    public static void ChangeThreadsSearch(USearchHandle index, int threads) { nint e = 0; usearch_change_threads_search(index, (nuint)threads, ref e); Check(e); }
    public static void Add(USearchHandle index, long key, float* vector) { nint e = 0; usearch_add(index, (ulong)key, vector, ScalarKind.Float32, ref e); Check(e); }
    public static int Search(USearchHandle index, float* query, int count, ulong* keys, float* distances) { nint e = 0; var r = usearch_search(index, query, ScalarKind.Float32, (nuint)count, keys, distances, ref e); Check(e); return checked((int)r); }
    /// <summary>A graph search that keeps only keys <paramref name="filter"/> accepts, tested by USearch during the traversal
    /// (rejected nodes still route the search), so up to <paramref name="count"/> accepted results come back however selective
    /// the filter is. The filter runs on this thread; an exception from it ends the search and is rethrown here.</summary>
    public static int FilteredSearch(USearchHandle index, float* query, int count, Func<long, bool> filter, ulong* keys, float* distances)
    {
        var state = new FilterState(filter);
        var handle = GCHandle.Alloc(state);
        try
        {
            nint e = 0;
            var r = usearch_filtered_search(index, query, ScalarKind.Float32, (nuint)count, &AcceptKey, (void*)GCHandle.ToIntPtr(handle), keys, distances, ref e);
            if (state.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            Check(e);
            return checked((int)r);
        }
        finally { handle.Free(); }
    }

    sealed class FilterState(Func<long, bool> filter)
    {
        public readonly Func<long, bool> Filter = filter;
        public Exception? Error;
    }

    /// <summary>Called by USearch for each candidate key. No exception may cross back into native code: the first one is kept
    /// and every later candidate is rejected.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    static int AcceptKey(ulong key, void* state)
    {
        var s = (FilterState)GCHandle.FromIntPtr((nint)state).Target!;
        if (s.Error is not null) return 0;
        try { return s.Filter((long)key) ? 1 : 0; }
        catch (Exception e) { s.Error = e; return 0; }
    }

    public static bool Get(USearchHandle index, long key, float* vector) { nint e = 0; var r = usearch_get(index, (ulong)key, 1, vector, ScalarKind.Float32, ref e); Check(e); return r > 0; }
    public static bool Remove(USearchHandle index, long key) { nint e = 0; var r = usearch_remove(index, (ulong)key, ref e); Check(e); return r > 0; }
    public static void Save(USearchHandle index, string path) { nint e = 0; usearch_save(index, path, ref e); Check(e); }
    /// <summary>Returns USearch's error message, or null on success.</summary>
    public static string? TryLoad(USearchHandle index, string path) { nint e = 0; usearch_load(index, path, ref e); return e == 0 ? null : Message(e); }

    [LibraryImport(Library)] internal static partial USearchHandle usearch_init(InitOptions* options, ref nint error);
    [LibraryImport(Library)] internal static partial void usearch_free(nint index, ref nint error);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial void usearch_save(USearchHandle index, string path, ref nint error);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial void usearch_load(USearchHandle index, string path, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_size(USearchHandle index, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_capacity(USearchHandle index, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_dimensions(USearchHandle index, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_memory_usage(USearchHandle index, ref nint error);
    [LibraryImport(Library)] internal static partial void usearch_reserve(USearchHandle index, nuint capacity, ref nint error);
    [LibraryImport(Library)] internal static partial void usearch_change_expansion_search(USearchHandle index, nuint expansion, ref nint error);
    [LibraryImport(Library)] internal static partial void usearch_change_threads_search(USearchHandle index, nuint threads, ref nint error);
    [LibraryImport(Library)] internal static partial void usearch_add(USearchHandle index, ulong key, float* vector, ScalarKind kind, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_search(USearchHandle index, float* query, ScalarKind kind, nuint count, ulong* keys, float* distances, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_filtered_search(USearchHandle index, float* query, ScalarKind kind, nuint count,
        delegate* unmanaged[Cdecl]<ulong, void*, int> filter, void* filterState, ulong* keys, float* distances, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_get(USearchHandle index, ulong key, nuint count, float* vectors, ScalarKind kind, ref nint error);
    [LibraryImport(Library)] internal static partial nuint usearch_remove(USearchHandle index, ulong key, ref nint error);
}
