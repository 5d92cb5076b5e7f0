using System.Net.Sockets;
using Npgsql;
using VqaApi.Retrieval;

namespace VqaApi.Postgres;

/// <summary>What a failed database call means for a client: the database cannot be reached now (503, retry), a collection another
/// replica deleted meanwhile (404), a full disk (507); anything else is a bug and is not translated.</summary>
internal static class PostgresErrors
{
    public static async Task<T> Guard<T>(Func<Task<T>> call, string? collection = null)
    {
        try { return await call(); }
        catch (Exception e) when (Translate(e, collection) is { } translated) { throw translated; }
    }

    public static async Task Guard(Func<Task> call, string? collection = null)
    {
        try { await call(); }
        catch (Exception e) when (Translate(e, collection) is { } translated) { throw translated; }
    }

    public static CollectionException? Translate(Exception e, string? collection)
    {
        switch (e)
        {
            case PostgresException p when p.SqlState == PostgresErrorCodes.UndefinedTable && collection is not null:
                return new CollectionException(CollectionErrorKind.NotFound, $"there is no collection '{collection}' (it was deleted meanwhile)");
            case PostgresException p when p.SqlState is PostgresErrorCodes.DiskFull or PostgresErrorCodes.OutOfMemory or PostgresErrorCodes.InsufficientResources:
                return new CollectionException(CollectionErrorKind.InsufficientStorage, $"the database could not store the write ({p.MessageText}); nothing of it was kept");
            case PostgresException p when p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("57P", StringComparison.Ordinal) ||
                                          p.SqlState.StartsWith("53", StringComparison.Ordinal) ||
                                          p.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected:
                return Unavailable(Why(p));
            case PostgresException:
                return null; // a statement the server refused: a bug of ours, not the client's
            case NpgsqlException n:
                return Unavailable(Why(n));
            case SocketException or TimeoutException or IOException:
                return Unavailable(Why(e));
            default:
                return null;
        }
    }

    private static CollectionException Unavailable(string why) => new(CollectionErrorKind.Unavailable, $"{NotReachable(why)}; nothing was changed, try again shortly");

    /// <summary>"the collection database cannot be reached now (why)": the start of every 503's problem, and /readyz's words.</summary>
    public static string NotReachable(string why) => $"the collection database cannot be reached now ({why.TrimEnd('.')})";

    /// <summary>Why a call failed, in the words of <see cref="Translate"/>'s problems (no host, port or password).</summary>
    public static string Why(Exception e) => e switch
    {
        PostgresException p => p.MessageText,
        NpgsqlException n => n.InnerException is SocketException s ? s.Message : n.Message,
        _ => e.Message,
    };
}
