using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VqaApi.Rendering;
using VqaApi.Retrieval;

namespace VqaApi.Cli;

/// <summary>Bulk loading and re-embedding of collections from the command line.</summary>
public static class CollectionCommands
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"];

    public static Command Salvage(Func<Func<int>, int> guarded)
    {
        var collection = new Option<string>("--collection") { Description = "the damaged collection", Required = true };
        var root = new Option<string?>("--root") { Description = "collections folder (default: Collections:Root of appsettings.json in the working folder, as the service reads it)" };
        var command = new Command("salvage", "Recover every intact record of a damaged collection (one the service reports damaged and does not serve). " +
                                             "The damaged folder is kept beside it, renamed. Run it while the service is stopped, then start the service.") { collection, root };
        command.SetAction(parse => guarded(() =>
        {
            var options = CliCollectionOptions.Load(Environment.CurrentDirectory, parse.GetValue(root));
            var name = parse.GetValue(collection)!;
            CollectionStore.ValidateName(name);
            var dir = Path.Combine(Path.GetFullPath(options.Root), name);
            if (!Directory.Exists(dir)) throw new ArgumentException($"there is no collection '{name}' in {Path.GetFullPath(options.Root)}");
            try
            {
                using var healthy = Collection.Open(dir, options);
                Console.Error.WriteLine($"collection '{name}' opens without damage ({healthy.Count:N0} items{(healthy.TornRecord is { } t ? $"; dropped {t}" : "")}); nothing to salvage");
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
            {
                Console.Error.WriteLine($"collection '{name}': {e.Message}");
            }
            var report = CollectionSalvage.Salvage(dir, options);
            foreach (var d in report.Damage) Console.Error.WriteLine($"  skipped: {d}");
            Console.WriteLine($"salvaged collection '{report.Collection}': {report.ItemsKept:N0} items kept from {report.RecordsRead:N0} intact records; " +
                              $"the damaged files are kept in {report.DamagedFilesKeptIn}");
            return 0;
        }));
        return command;
    }

    public static Command Index(Func<Func<int>, int> guarded)
    {
        var collection = new Option<string>("--collection") { Description = "collection name (created for the model when missing)", Required = true };
        var model = new Option<string>("--model") { Description = "model directory", Required = true };
        var root = new Option<string?>("--root") { Description = "collections folder (default: Collections:Root of appsettings.json in the working folder, as the service reads it)" };
        var images = new Option<string?>("--images") { Description = "folder of images (ids are their relative paths)" };
        var texts = new Option<string?>("--texts") { Description = "JSONL file: {\"id\": ..., \"text\": ..., \"metadata\": {...}} per line" };
        var batch = new Option<int>("--batch") { Description = "items embedded and written per step", DefaultValueFactory = _ => 64 };
        var noWait = new Option<bool>("--no-wait-index")
        {
            Description = "exit without waiting for the background HNSW index to take in every item: what was built is saved, and the rest is added at the next start",
        };
        var threshold = new Option<int?>("--hnsw-threshold")
        {
            Description = "items from which the collection has an HNSW index (default: Collections:HnswThreshold, as the service reads it)",
        };
        var command = new Command("index", "Bulk-load a collection from a folder of images or a JSONL file of texts; resumable (ids already stored are skipped). " +
                                           "At the end it waits until the HNSW index holds every item, unless --no-wait-index")
            { collection, model, root, images, texts, batch, noWait, threshold };
        command.SetAction(parse => guarded(() =>
        {
            var imageFolder = parse.GetValue(images);
            var textFile = parse.GetValue(texts);
            if ((imageFolder is null) == (textFile is null)) throw new ArgumentException("give exactly one of --images or --texts");
            int step = Math.Clamp(parse.GetValue(batch), 1, 4096);
            bool wait = !parse.GetValue(noWait);
            if (parse.GetValue(threshold) < 0) throw new ArgumentException("--hnsw-threshold must not be negative");
            var options = CliCollectionOptions.Load(Environment.CurrentDirectory, parse.GetValue(root), parse.GetValue(threshold));
            // Without waiting, closing stops the index build after its current step (and saves it as far as it got).
            if (!wait) options.HnswShutdownWaitSeconds = 0;
            using var tools = HeadTooling.Open(parse.GetValue(model)!);
            using var store = OpenStore(options);
            var m = tools.Embeddings.Model;
            var (target, _) = Wait(store.CreateAsync(new CollectionInfo(parse.GetValue(collection)!, m.Manifest.Id, m.Canvases.ProfileName, m.Manifest.Architecture.EmbeddingDim, DateTimeOffset.UtcNow)));

            var sources = imageFolder is not null ? ImageSources(imageFolder) : TextSources(textFile!);
            var stored = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in sources.Chunk(1000)) stored.UnionWith(Wait(target.ExistingAsync(chunk.Select(c => c.Id).ToList())));
            var todo = sources.Where(s => !stored.Contains(s.Id)).ToList();
            int skipped = sources.Count - todo.Count;
            var progress = new Progress(todo.Count, skipped);
            progress.Advance(0);
            int count = target.Count;
            for (int start = 0; start < todo.Count; start += step)
            {
                var chunk = todo.Skip(start).Take(step).ToList();
                var items = new List<NewItem>(chunk.Count);
                if (imageFolder is not null)
                {
                    var canvases = new float[chunk.Count * m.Canvases.Length];
                    var bytes = new List<byte[]>();
                    for (int i = 0; i < chunk.Count; i++)
                    {
                        bytes.Add(File.ReadAllBytes(chunk[i].Path!));
                        m.Canvases.RenderImage(ImageDecoder.Decode(bytes[i], new ImageLimits()), canvases.AsSpan(i * m.Canvases.Length, m.Canvases.Length));
                    }
                    var encoded = tools.Embeddings.CanvasesAsync(canvases, chunk.Count, default).AsTask().GetAwaiter().GetResult();
                    for (int i = 0; i < chunk.Count; i++) items.Add(new NewItem(chunk[i].Id, null, bytes[i], chunk[i].Metadata, encoded[i].Embedding));
                }
                else
                {
                    var vectors = tools.Embeddings.TextsAsync(chunk.Select(c => c.Text!).ToList(), default).AsTask().GetAwaiter().GetResult().Vectors;
                    for (int i = 0; i < chunk.Count; i++) items.Add(new NewItem(chunk[i].Id, chunk[i].Text, null, chunk[i].Metadata, vectors[i]));
                }
                count = Wait(target.UpsertAsync(items, upsert: true)).Count;
                progress.Advance(chunk.Count);
            }
            progress.Done();
            if (target is Collection { UsesHnsw: true } embedded)
            {
                if (wait) WaitForIndex(embedded);
                else if (embedded.HnswPending > 0)
                    Console.Error.WriteLine($"HNSW index: {embedded.HnswPending:N0} of {embedded.Count:N0} items not added yet (--no-wait-index); " +
                                            "what was built is saved, the rest is added when the collection is next opened (searches find them meanwhile)");
            }
            Console.WriteLine($"collection '{target.Info.Name}': {count} items ({todo.Count} added, {skipped} already there) for model {target.Info.Model}");
            return 0;
        }));
        return command;
    }

    public static Command Reembed(Func<Func<int>, int> guarded)
    {
        var collection = new Option<string>("--collection") { Description = "collection name", Required = true };
        var model = new Option<string>("--model") { Description = "the new model directory", Required = true };
        var root = new Option<string?>("--root") { Description = "collections folder (default: Collections:Root of appsettings.json in the working folder, as the service reads it)" };
        var command = new Command("reembed", "Re-embed every item of a collection (from its stored texts and images) for another model; " +
                                             "the old collection serves until the new one replaces it in one step") { collection, model, root };
        command.SetAction(parse => guarded(() =>
        {
            using var tools = HeadTooling.Open(parse.GetValue(model)!);
            var options = CliCollectionOptions.Load(Environment.CurrentDirectory, parse.GetValue(root));
            using var store = OpenStore(options);
            var source = Wait(store.GetAsync(parse.GetValue(collection)!));
            var orphans = Wait(CountBareEmbeddings(source));
            if (orphans > 0) throw new ArgumentException($"{orphans} item(s) of '{source.Info.Name}' were added as bare embeddings; they cannot be re-embedded (delete them first)");
            var m = tools.Embeddings.Model;
            var target = Wait(store.CreateStagedAsync(new CollectionInfo(source.Info.Name, m.Manifest.Id, m.Canvases.ProfileName, m.Manifest.Architecture.EmbeddingDim,
                DateTimeOffset.UtcNow, source.Info.Owner)));
            var progress = new Progress(source.Count, 0);
            int done = Wait(ReembedAsync(source, target, tools.Embeddings, progress));
            if (target is Collection embedded) WaitForIndex(embedded);
            Wait(store.ReplaceAsync(target));
            progress.Done();
            Console.WriteLine($"collection '{source.Info.Name}' re-embedded: {done} items, now for model {m.Manifest.Id}");
            return 0;
        }));
        return command;
    }

    public static Command Copy(Func<Func<int>, int> guarded)
    {
        var collection = new Option<string>("--collection") { Description = "collection name", Required = true };
        var from = new Option<CollectionBackend>("--from") { Description = "the backend it is in: embedded or postgres", Required = true };
        var to = new Option<CollectionBackend>("--to") { Description = "the backend to copy it to: embedded or postgres", Required = true };
        var root = new Option<string?>("--root") { Description = "the embedded backend's folder (default: Collections:Root of appsettings.json in the working folder, as the service reads it)" };
        var replace = new Option<bool>("--replace") { Description = "replace a collection of that name in the target backend (otherwise such a copy is refused)" };
        var command = new Command("copy-collection",
            "Copy a collection between backends (embedded files and PostgreSQL, both as configured in Collections:*): its items, embeddings, metadata and " +
            "images, without re-embedding. The copy is built aside and served in one step; then counts are compared and a sample of items is searched " +
            "in both. Stop writers to the source first: writes made during the copy are not carried over") { collection, from, to, root, replace };
        command.SetAction(parse => guarded(() =>
        {
            if (parse.GetValue(from) == parse.GetValue(to)) throw new ArgumentException("--from and --to name the same backend");
            var options = CliCollectionOptions.Load(Environment.CurrentDirectory, parse.GetValue(root));
            using var source = OpenStore(options, parse.GetValue(from));
            using var target = OpenStore(options, parse.GetValue(to));
            var report = Wait(CollectionCopy.RunAsync(source, target, parse.GetValue(collection)!, parse.GetValue(replace),
                (done, total) => Console.Error.Write($"\rcopied {done:N0}/{total:N0} items ")));
            Console.Error.WriteLine();
            Console.WriteLine($"collection '{report.Name}' copied from {parse.GetValue(from).ToString().ToLowerInvariant()} to {parse.GetValue(to).ToString().ToLowerInvariant()}: " +
                              $"{report.SourceCount:N0} items in the source, {report.TargetCount:N0} in the copy; {report.Searched} sampled items found as their own best match " +
                              $"in both ({report.SearchAgreement:N0} of {report.Searched} with the same top 10)");
            return 0;
        }));
        return command;
    }

    /// <summary>The store Collections:Backend names (or <paramref name="backend"/>), started (a database reached and migrated).</summary>
    internal static ICollectionStore OpenStore(CollectionOptions options, CollectionBackend? backend = null)
    {
        if (backend is { } b) options = CliCollectionOptions.WithBackend(options, b);
        var store = Api.Hosting.CollectionRegistration.Create(Options.Create(options), NullLoggerFactory.Instance);
        try { Wait(store.StartAsync()); }
        catch { store.Dispose(); throw; }
        return store;
    }

    /// <summary>The CLI's verbs run one after another on the main thread; a store call is awaited there.</summary>
    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    /// <summary>Streams the source's items (64 at a time) through the new model into the staged target; returns the items written.</summary>
    private static async Task<int> ReembedAsync(IVectorCollection source, IVectorCollection target, Tasks.Embeddings.EmbeddingService embeddings, Progress progress)
    {
        int done = 0;
        var chunk = new List<StoredItem>(64);
        await foreach (var stored in source.ReadAllAsync())
        {
            chunk.Add(stored);
            if (chunk.Count == 64) done += await Step();
        }
        if (chunk.Count > 0) done += await Step();
        return done;

        async Task<int> Step()
        {
            var batch = new List<NewItem>();
            var textItems = chunk.Where(i => i.Image is null).ToList();
            var vectors = textItems.Count == 0 ? [] : (await embeddings.TextsAsync(textItems.Select(i => i.Item.Text!).ToList(), default)).Vectors;
            for (int i = 0; i < textItems.Count; i++) batch.Add(new NewItem(textItems[i].Item.Id, textItems[i].Item.Text, null, Meta(textItems[i].Item), vectors[i]));
            foreach (var stored in chunk.Where(i => i.Image is not null))
            {
                var vector = (await embeddings.ImageAsync(ImageDecoder.Decode(stored.Image!, new ImageLimits()), default)).Embedding;
                batch.Add(new NewItem(stored.Item.Id, stored.Item.Text, stored.Image, Meta(stored.Item), vector));
            }
            await target.UpsertAsync(batch, upsert: true);
            progress.Advance(chunk.Count);
            int n = chunk.Count;
            chunk.Clear();
            return n;
        }
    }

    /// <summary>Items added as bare embeddings (no text, no image): they cannot be re-embedded. Read page by page, without vectors.</summary>
    private static async Task<int> CountBareEmbeddings(IVectorCollection source)
    {
        int bare = 0;
        string? after = null;
        while (true)
        {
            var page = await source.ListAsync(1000, after);
            bare += page.Count(i => i.Text is null && i.ImageSha256 is null);
            if (page.Count < 1000) return bare;
            after = page[^1].Id;
        }
    }

    /// <summary>Waits until the collection's background HNSW index holds every item, with a progress line on standard error.</summary>
    private static void WaitForIndex(Collection target)
    {
        if (!target.UsesHnsw) return;
        var clock = Stopwatch.StartNew();
        int total = target.Count;
        target.WaitForHnsw(pending =>
            Console.Error.Write($"\rHNSW index: {total - pending:N0}/{total:N0} items added, {pending:N0} to go, {clock.Elapsed:mm\\:ss} "), TimeSpan.FromSeconds(1));
        Console.Error.WriteLine($"\rHNSW index: all {total:N0} items added ({clock.Elapsed.TotalSeconds:F1} s)                ");
    }

    private static JsonElement? Meta(CollectionItem item) => item.Metadata.ValueKind == JsonValueKind.Undefined ? null : item.Metadata;

    private sealed record Source(string Id, string? Path, string? Text, JsonElement? Metadata);

    private static List<Source> ImageSources(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist");
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Select(f => new Source(Path.GetRelativePath(folder, f).Replace('\\', '/'), f, null, null)).ToList();
    }

    private sealed record TextLine(string? Id, string? Text, JsonElement? Metadata);

    private static List<Source> TextSources(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"text file '{file}' does not exist");
        var sources = new List<Source>();
        int number = 0;
        foreach (var raw in File.ReadLines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            TextLine line;
            try { line = JsonSerializer.Deserialize<TextLine>(raw, new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new FormatException($"{Path.GetFileName(file)} line {number}: not a JSON object ({e.Message})"); }
            if (string.IsNullOrEmpty(line.Text)) throw new FormatException($"{Path.GetFileName(file)} line {number}: no 'text'");
            sources.Add(new Source(line.Id ?? $"line-{number}", null, line.Text, line.Metadata));
        }
        return sources;
    }

    /// <summary>A one-line progress bar on standard error: done/total, rate and time left.</summary>
    private sealed class Progress(int total, int skipped)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _done;

        public void Advance(int n)
        {
            _done += n;
            double rate = _done / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
            int width = 30, filled = total == 0 ? width : (int)(width * (double)_done / total);
            var eta = rate > 0 ? TimeSpan.FromSeconds((total - _done) / rate) : TimeSpan.Zero;
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {_done}/{total} ({skipped} skipped) {rate:F1}/s, {eta:mm\\:ss} left ");
        }

        public void Done() => Console.Error.WriteLine();
    }
}
