using System.ComponentModel.DataAnnotations;

namespace VqaApi.Tasks.Embeddings;

public sealed class EmbeddingCacheOptions
{
    public const string Section = "EmbeddingCache";

    /// <summary>Text embeddings kept (least recently used evicted first); 0 turns the cache off.</summary>
    [Range(0, 10_000_000)] public int MaxEntries { get; set; } = 20_000;

    /// <summary>Bytes the cache may hold (keys and vectors, counted as stored); long prompts cannot grow it past this.</summary>
    [Range(0, 1L << 40)] public long MaxBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>
/// A bounded LRU cache of text embeddings, keyed by model, render profile, layout and text, so labels and
/// prompts seen before cost no encoder work. Bounded by entries and by bytes (an entry over a sixteenth of the bytes is
/// not kept).
/// </summary>
public sealed class EmbeddingCache(int maxEntries, long maxBytes = 64L * 1024 * 1024)
{
    public readonly record struct Key(string Model, string Profile, string Layout, string Text);

    private readonly Dictionary<Key, LinkedListNode<(Key Key, float[] Value)>> _map = new();
    private readonly LinkedList<(Key Key, float[] Value)> _order = new();
    private readonly Lock _lock = new();
    private long _hits, _misses;

    private long _bytes;

    public int Count { get { lock (_lock) return _map.Count; } }
    /// <summary>Bytes held now (UTF-16 keys, float vectors, and a fixed overhead an entry).</summary>
    public long Bytes { get { lock (_lock) return _bytes; } }

    public static long Cost(Key key, float[] value) =>
        2L * (key.Model.Length + key.Profile.Length + key.Layout.Length + key.Text.Length) + 4L * value.Length + 160;
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);

    public bool TryGet(Key key, out float[] value)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                Interlocked.Increment(ref _hits);
                return true;
            }
        }
        Interlocked.Increment(ref _misses);
        value = [];
        return false;
    }

    public void Set(Key key, float[] value)
    {
        long cost = Cost(key, value);
        if (maxEntries == 0 || cost > maxBytes / 16) return;
        lock (_lock)
        {
            if (_map.Remove(key, out var existing))
            {
                _order.Remove(existing);
                _bytes -= Cost(existing.Value.Key, existing.Value.Value);
            }
            var node = _order.AddFirst((key, value));
            _map[key] = node;
            _bytes += cost;
            while (_map.Count > maxEntries || _bytes > maxBytes)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                _bytes -= Cost(last.Value.Key, last.Value.Value);
            }
        }
    }
}
