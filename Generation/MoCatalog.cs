using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace VqaApi.Generation;

/// <summary>One message of a gettext catalogue. <see cref="MsgId"/> is the singular source text (the context and the
/// plural source stripped off); <see cref="Translations"/> holds one form, or one per plural form.</summary>
public sealed record MoEntry(string? Context, string MsgId, string? MsgIdPlural, IReadOnlyList<string> Translations)
{
    /// <summary>The translation (the first plural form for plural messages).</summary>
    public string Translation => Translations[0];
}

/// <summary>A GNU gettext binary message catalogue (.mo), read into memory.
/// Format: magic 0x950412de in the file's byte order, revision, message count N, offset of the original strings
/// table, offset of the translated strings table (each N pairs of length and offset), hash table size and offset.
/// Strings are NUL-terminated; a plural message's msgid is "singular\0plural" and its msgstr has one form per plural
/// form, separated by NUL; a context prefixes the msgid with "context\x04". The entry with the empty msgid is the header.</summary>
public sealed class MoCatalog
{
    public const uint Magic = 0x950412de;
    private const int HeaderSize = 28;
    private static readonly HashSet<string> AcceptedCharsets = new(StringComparer.OrdinalIgnoreCase)
        { "UTF-8", "UTF8", "US-ASCII", "ASCII", "ANSI_X3.4-1968" };

    private MoCatalog(IReadOnlyList<MoEntry> entries, string? header, string? charset, bool bigEndian, int invalidEntries)
    {
        Entries = entries;
        Header = header;
        Charset = charset;
        BigEndian = bigEndian;
        InvalidEntries = invalidEntries;
    }

    /// <summary>The messages, header excluded, in file order (gettext sorts them by msgid).</summary>
    public IReadOnlyList<MoEntry> Entries { get; }

    /// <summary>The header (the translation of the empty msgid), or null when the catalogue has none.</summary>
    public string? Header { get; }

    /// <summary>The charset named by the header's Content-Type, or null when it names none (then UTF-8 is assumed).</summary>
    public string? Charset { get; }

    public bool BigEndian { get; }

    /// <summary>Messages skipped because their bytes are not valid UTF-8.</summary>
    public int InvalidEntries { get; }

    /// <summary>Reads a catalogue file; false with a reason when it cannot be read or is not a usable catalogue. Never throws for bad content.</summary>
    public static bool TryLoad(string path, out MoCatalog? catalog, out string? reason)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            catalog = null;
            reason = $"unreadable: {ex.Message}";
            return false;
        }
        return TryParse(data, out catalog, out reason);
    }

    /// <summary>Parses catalogue bytes; false with a reason (truncated, bad magic, out-of-range table, unsupported charset, ...).</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out MoCatalog? catalog, out string? reason)
    {
        try
        {
            catalog = Parse(data);
            reason = null;
            return true;
        }
        catch (InvalidDataException ex)
        {
            catalog = null;
            reason = ex.Message;
            return false;
        }
    }

    /// <summary>Parses catalogue bytes.</summary>
    /// <exception cref="InvalidDataException">the bytes are not a usable catalogue; the message says why.</exception>
    public static MoCatalog Parse(ReadOnlySpan<byte> data)
    {
        var index = Index(data);
        var entries = new List<MoEntry>(index.Messages.Length);
        var invalid = 0;
        foreach (var (idRange, strRange) in index.Messages)
        {
            var id = Decode(data[idRange]);
            var str = Decode(data[strRange]);
            if (id is null || str is null) { invalid++; continue; }
            string? context = null;
            var eot = id.IndexOf('\u0004');
            if (eot >= 0) { context = id[..eot]; id = id[(eot + 1)..]; }
            string? plural = null;
            var nul = id.IndexOf('\0');
            if (nul >= 0) { plural = id[(nul + 1)..]; id = id[..nul]; }
            if (id.Length == 0) continue; // a context with an empty msgid: nothing to translate
            entries.Add(new MoEntry(context, id, plural, str.Split('\0')));
        }
        return new MoCatalog(entries, index.Header, index.Charset, index.BigEndian, invalid);
    }

    /// <summary>The validated layout of a catalogue: header, charset, and where each message's msgid and msgstr bytes
    /// lie (header entry excluded). Lets a caller decode only the messages it wants.</summary>
    internal readonly record struct MoIndex(bool BigEndian, string? Header, string? Charset, (Range Id, Range Str)[] Messages);

    /// <exception cref="InvalidDataException">the bytes are not a usable catalogue; the message says why.</exception>
    internal static MoIndex Index(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize) throw new InvalidDataException($"truncated: {data.Length} bytes, shorter than the {HeaderSize}-byte header");
        bool big;
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) == Magic) big = false;
        else if (BinaryPrimitives.ReadUInt32BigEndian(data) == Magic) big = true;
        else throw new InvalidDataException($"not a .mo file: magic 0x{BinaryPrimitives.ReadUInt32LittleEndian(data):x8}");

        var revision = U32(data, 4, big);
        if (revision >> 16 > 1) throw new InvalidDataException($"unsupported major revision {revision >> 16}");
        long count = U32(data, 8, big), originals = U32(data, 12, big), translations = U32(data, 16, big);
        if (originals + count * 8 > data.Length) throw new InvalidDataException($"truncated: original strings table ({count} entries at {originals}) past the end ({data.Length} bytes)");
        if (translations + count * 8 > data.Length) throw new InvalidDataException($"truncated: translated strings table ({count} entries at {translations}) past the end ({data.Length} bytes)");

        string? header = null;
        var messages = new List<(Range, Range)>((int)count);
        for (long i = 0; i < count; i++)
        {
            var id = StringAt(data, originals + i * 8, big, i, "original");
            var str = StringAt(data, translations + i * 8, big, i, "translated");
            if (id.End.Value == id.Start.Value)
            {
                header = Decode(data[str]) ?? throw new InvalidDataException("the header is not valid UTF-8");
                continue;
            }
            messages.Add((id, str));
        }

        var charset = header is null ? null : CharsetOf(header);
        if (charset is not null && !AcceptedCharsets.Contains(charset))
            throw new InvalidDataException($"unsupported charset {charset} (only UTF-8 is read)");
        return new MoIndex(big, header, charset, messages.ToArray());
    }

    private static uint U32(ReadOnlySpan<byte> data, long at, bool big) =>
        big ? BinaryPrimitives.ReadUInt32BigEndian(data.Slice((int)at, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(data.Slice((int)at, 4));

    private static Range StringAt(ReadOnlySpan<byte> data, long entry, bool big, long i, string what)
    {
        long length = U32(data, entry, big), offset = U32(data, entry + 4, big);
        if (offset + length > data.Length) throw new InvalidDataException($"truncated: {what} string {i} ({length} bytes at {offset}) past the end ({data.Length} bytes)");
        return new Range((int)offset, (int)(offset + length));
    }

    /// <summary>The text of UTF-8 bytes, or null when they are not valid UTF-8.</summary>
    internal static string? Decode(ReadOnlySpan<byte> bytes) => Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>The charset of a header's "Content-Type: text/plain; charset=X" line, or null.</summary>
    public static string? CharsetOf(string header)
    {
        foreach (var line in header.Split('\n'))
        {
            if (!line.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase)) continue;
            var at = line.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
            if (at < 0) return null;
            var cs = line[(at + "charset=".Length)..].Trim().TrimEnd(';').Trim();
            return cs.Length == 0 ? null : cs;
        }
        return null;
    }
}
