using System.ComponentModel.DataAnnotations;

namespace VqaApi.Tasks.Embeddings;

public sealed class EmbeddingCacheOptions
{
    public const string Section = "EmbeddingCache";

    /// <summary>Text embeddings kept (least recently used evicted first); 0 turns the cache off.</summary>
    [Range(0, 10_000_000)] public int MaxEntries { get; set; } = 20_000;
}

/// <summary>
/// A bounded LRU cache of text embeddings, keyed by model, render profile, layout and text, so labels and
/// prompts seen before cost no encoder work.
/// </summary>
public sealed class EmbeddingCache(int maxEntries)
{
    public readonly record struct Key(string Model, string Profile, string Layout, string Text);

    private readonly Dictionary<Key, LinkedListNode<(Key Key, float[] Value)>> _map = new();
    private readonly LinkedList<(Key Key, float[] Value)> _order = new();
    private readonly Lock _lock = new();
    private long _hits, _misses;

    public int Count { get { lock (_lock) return _map.Count; } }
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
        if (maxEntries == 0) return;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing)) _order.Remove(existing);
            var node = _order.AddFirst((key, value));
            _map[key] = node;
            while (_map.Count > maxEntries)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }
}
