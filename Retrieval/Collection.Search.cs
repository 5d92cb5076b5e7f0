using System.Runtime.InteropServices;
using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>Collection: search routing (the HNSW graph with its backlog scored key by key, or the exact index; filters tested during the traversal or, when selective, by the exact scan).</summary>
public sealed partial class Collection
{
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, float minScore, MetadataFilter? filter)
    {
        ItemRules.CheckQuery(query, Info);
        _lock.EnterReadLock();
        try
        {
            if (filter is not null)
                foreach (var field in filter.Fields)
                    if (!_fields.Contains(field))
                        throw new CollectionException(CollectionErrorKind.Invalid, $"no item of collection '{Info.Name}' has the metadata field '{field}'");
            Func<long, bool>? pass = filter is null ? null : key => _byKey.TryGetValue(key, out var item) && filter.Matches(item.Metadata);
            if (_hnsw is not { } hnsw) return _index.Search(query, k, pass, minScore).Select(h => new SearchHit(_byKey[h.Key], h.Score)).ToList();
            // A selective filter: when few items are expected to pass, scoring every item that passes exactly (the exact index
            // tests the filter before each dot product) is cheaper than a graph search that must walk past the rejected nodes,
            // and it is exact (see CollectionOptions.HnswFilterExactBelow).
            if (pass is not null && EstimatePassRate(pass) * _byKey.Count < _options.HnswFilterExactBelow)
                return _index.Search(query, k, pass, minScore).Select(h => new SearchHit(_byKey[h.Key], h.Score)).ToList();
            // Exact for the backlog, then HNSW for what it holds (stale keys of replaced or deleted items are skipped). In
            // this order because the worker moves keys from the backlog into the graph meanwhile: no item is written while
            // this read lock is held, and a key only ever leaves the backlog, so every item is scored by one or both (a key
            // that moves between the two is found twice and kept once); the other order could miss it.
            var hits = new List<VectorHit>();
            if (!_hnswBacklog.IsEmpty)
            {
                // Key by key while the backlog is a small part of the collection (the usual case, the last few writes), one
                // scan of the exact index with a membership test when it is larger (an index being built or catching up: the
                // scan reads memory in order, skips non-members with one lookup and splits over cores). The threshold comes
                // from the vector benchmark's backlog table (docs/benchmarks.md, "Exact scoring of the HNSW backlog").
                hits.AddRange(_hnswBacklog.Count * 32 < _byKey.Count
                    ? _index.SearchAmong(query, k, _hnswBacklog.Select(p => p.Key), pass, minScore)
                    : _index.Search(query, k, key => _hnswBacklog.ContainsKey(key) && (pass is null || pass(key)), minScore));
            }
            hits.AddRange(hnsw.Search(query, k, key => _byKey.ContainsKey(key) && !_hnswBacklog.ContainsKey(key) && (pass is null || pass(key)), minScore,
                _options.HnswExpansionFor(k, _byId.Count)));
            return hits.OrderByDescending(h => h.Score).ThenBy(h => h.Key).DistinctBy(h => h.Key).Take(k).Select(h => new SearchHit(_byKey[h.Key], h.Score)).ToList();
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Items stored in the exact index whose filter outcome estimates a filter's pass rate.</summary>
    private const int FilterSample = 512;

    /// <summary>The share of a sample of stored items (spread evenly over the exact index) that pass; the caller holds the read lock.</summary>
    private double EstimatePassRate(Func<long, bool> pass)
    {
        Span<long> sample = stackalloc long[FilterSample];
        int n = _index.SampleKeys(sample);
        if (n == 0) return 1;
        int passed = 0;
        foreach (long key in sample[..n]) if (pass(key)) passed++;
        return (double)passed / n;
    }
}
