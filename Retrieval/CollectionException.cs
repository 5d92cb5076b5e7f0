namespace VqaApi.Retrieval;

/// <summary>Why a collection refuses a request; the API decides what each kind means in HTTP.</summary>
public enum CollectionErrorKind
{
    /// <summary>The request itself is wrong (a bad name, id, filter, vector or metadata).</summary>
    Invalid,
    /// <summary>No such collection or item.</summary>
    NotFound,
    /// <summary>The collection exists already, or is in a state that refuses the request (another model, being deleted).</summary>
    Conflict,
    /// <summary>The disk is full or a storage quota is reached.</summary>
    InsufficientStorage,
    /// <summary>The collection's files are damaged: it is not served until it is salvaged (<c>vqa salvage</c>).</summary>
    Damaged,
    /// <summary>The storage behind the collections cannot be reached now (a database that is down or restarting); nothing
    /// was changed, and the same request may succeed later.</summary>
    Unavailable,
}

/// <summary>A request the collection refuses, with the reason in words and as a <see cref="CollectionErrorKind"/>.</summary>
public sealed class CollectionException(CollectionErrorKind kind, string message) : Exception(message)
{
    public CollectionErrorKind Kind { get; } = kind;
}
