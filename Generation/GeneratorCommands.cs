using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Generation;

/// <summary>
/// The generator's command-line verbs (`stream`, `shard`, `preview`), shared by the stand-alone `vqa-generate`
/// and the service's own CLI.
/// </summary>
public static class GeneratorCommands
{
    public const int DefaultSceneEmoji = 120;

    private sealed record Common(Option<ulong> Seed, Option<string> Split, Option<int> Size, Option<string> Mix, Option<int> Threads, Option<int> Emoji, Option<string?> ParallelFile,
        WorldOptionsCli World)
    {
        public IEnumerable<Option> All => [Seed, Split, Size, Mix, Threads, Emoji, ParallelFile, .. World.All];
    }

    private static Common Options() => new(
        new Option<ulong>("--seed") { Description = "the seed: the same seed (and options) gives the same bytes", DefaultValueFactory = _ => 0 },
        new Option<string>("--split") { Description = "train, heldout or novel (held-out attribute-object combinations)", DefaultValueFactory = _ => "train" },
        new Option<int>("--size") { Description = "canvas size in pixels (the shaped profile shaped-SIZE)", DefaultValueFactory = _ => 224 },
        new Option<string>("--mix") { Description = "relative weights of the example kinds", DefaultValueFactory = _ => "caption=4,text=2,vqa=3,pair=1" },
        new Option<int>("--threads") { Description = "rendering threads in this process", DefaultValueFactory = _ => 1 },
        new Option<int>("--emoji") { Description = "how many catalogue emoji scenes draw from (the first N)", DefaultValueFactory = _ => DefaultSceneEmoji },
        new Option<string?>("--parallel-file") { Description = "TSV of real parallel sentences (langA, textA, langB, textB), e.g. from `parallel-export`; none by default" },
        new WorldOptionsCli());

    public static IEnumerable<Command> All(Func<Func<int>, int> guarded) => [Stream(guarded), Shard(guarded), Preview(guarded), Words(guarded), ParallelExport(guarded)];

    /// <summary>
    /// The answer words (colour, shape, count, yes/no labels of <see cref="Answers.All"/>) of each language, each drawn
    /// alone on a text canvas: what zero-shot classification over rendered words compares images with
    /// (training/probe.py). Records are kind 1 with canvas B empty, the label the answer class, the language in A.
    /// </summary>
    private static Command Words(Func<Func<int>, int> guarded)
    {
        var size = new Option<int>("--size") { Description = "canvas size in pixels (the shaped profile shaped-SIZE)", DefaultValueFactory = _ => 224 };
        var languages = new Option<string?>("--languages") { Description = "languages, e.g. en,de (default all 12)" };
        var output = new Option<string>("--out") { Description = "the shard file to write", Required = true };
        var meta = new Option<string?>("--meta") { Description = "also write one JSON line per record" };
        var command = new Command("words", "Write every answer word of every language, one per text canvas, as a VQAGEN shard") { size, languages, output, meta };
        command.SetAction(parse => guarded(() =>
        {
            int s = parse.GetValue(size);
            if (s is < 64 or > 1024) throw new ArgumentException("--size must be 64..1024");
            var all = Languages.Create(EmojiCatalog.Default);
            var codes = parse.GetValue(languages) is { } l ? l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [.. Languages.Codes];
            foreach (var c in codes) if (!Languages.Codes.Contains(c)) throw new ArgumentException($"unknown language '{c}': use some of {string.Join(",", Languages.Codes)}");
            var renderer = new ShapedRenderer(ShapedProfile.ForImageSize(s));
            var path = Path.GetFullPath(parse.GetValue(output)!);
            int canvas = s * s * 3;
            var record = new byte[ExampleStream.RecordBytes(s)];
            using (var file = new FileStream(path + ".partial", FileMode.Create, FileAccess.Write))
            using (var log = parse.GetValue(meta) is { } m ? new StreamWriter(m) : null)
            {
                file.Write(ExampleStream.Header(s, 0, Split.HeldOut));
                long index = 0;
                foreach (var code in codes)
                {
                    int li = Languages.Codes.IndexOf(code);
                    var language = all[li];
                    for (int c = 0; c < Answers.All.Count; c++)
                    {
                        string word = language.AnswerLabel(Answers.All[c]);
                        var e = new Example(ExampleKind.TextPair, index++, null, word, null, li, 255, c, 0, ContentKey.Hash("answer: " + Answers.All[c]));
                        Array.Clear(record);
                        record[0] = (byte)e.Kind; record[1] = (byte)li; record[2] = 255;
                        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4), c);
                        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(record.AsSpan(8), e.Index);
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(16), e.ContentKey);
                        renderer.RenderTextRgb(word, record.AsSpan(ExampleStream.RecordHeaderBytes, canvas));
                        file.Write(record);
                        log?.WriteLine(JsonSerializer.Serialize(new { index = e.Index, kind = e.Kind.ToString(), textA = word, languageA = li, language = code, label = c, answer = Answers.All[c] }));
                    }
                }
            }
            File.Move(path + ".partial", path, overwrite: true);
            Console.Error.WriteLine($"{codes.Length * Answers.All.Count} word canvases ({codes.Length} languages) -> {path}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Real parallel sentences from this machine's gettext catalogues, as the TSV `--parallel-file` reads: for each
    /// message of the split, English against a few other languages and a pair of two non-English languages, up to
    /// --max pairs, chosen with a fixed seed. The text carries its packages' licences: export it where you train,
    /// never commit it.
    /// </summary>
    private static Command ParallelExport(Func<Func<int>, int> guarded)
    {
        var root = new Option<string>("--root") { Description = "locale folder holding LANG/LC_MESSAGES/*.mo", DefaultValueFactory = _ => ParallelCorpus.DefaultRoot };
        var split = new Option<string>("--split") { Description = "train or heldout (messages are split by a hash of their English text)", DefaultValueFactory = _ => "train" };
        var max = new Option<int>("--max") { Description = "most pairs written", DefaultValueFactory = _ => 60_000 };
        var perMessage = new Option<int>("--per-message") { Description = "pairs drawn per message", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--out") { Description = "TSV file to write", Required = true };
        var command = new Command("parallel-export", "Write real parallel sentence pairs from the machine's translation catalogues as a TSV for --parallel-file")
            { root, split, max, perMessage, output };
        command.SetAction(parse => guarded(() =>
        {
            bool heldOut = ParseSplit(parse.GetValue(split)!) != Split.Train;
            var corpus = ParallelCorpus.Load(parse.GetValue(root)!);
            var random = new Random(20261126);
            var pairs = new List<ParallelPair>();
            foreach (var group in corpus.Pairs(heldOut))
            {
                var english = group.In("en");
                var others = group.Sentences.Where(s => s.Language != "en").ToList();
                if (others.Count == 0) continue;
                for (int k = 0; k < parse.GetValue(perMessage); k++)
                {
                    var a = others[random.Next(others.Count)];
                    var b = english is not null && k % 2 == 0 ? english : others[random.Next(others.Count)];
                    if (a.Language == b.Language) continue;
                    pairs.Add(random.Next(2) == 0 ? new ParallelPair(a.Language, a.Text, b.Language, b.Text) : new ParallelPair(b.Language, b.Text, a.Language, a.Text));
                }
            }
            for (int i = pairs.Count - 1; i > 0; i--) { int j = random.Next(i + 1); (pairs[i], pairs[j]) = (pairs[j], pairs[i]); }
            var kept = pairs.Take(parse.GetValue(max)).ToList();
            ParallelFile.Write(parse.GetValue(output)!, kept);
            Console.Error.WriteLine($"{kept.Count} pairs over {kept.SelectMany(p => new[] { p.LanguageA, p.LanguageB }).Distinct().Count()} languages -> {parse.GetValue(output)}");
            return 0;
        }));
        return command;
    }

    public static Split ParseSplit(string s) => s switch
    {
        "train" => Split.Train,
        "heldout" => Split.HeldOut,
        "novel" => Split.Novel,
        _ => throw new ArgumentException($"unknown split '{s}': use train, heldout or novel"),
    };

    private static ExampleGenerator Create(ParseResult parse, Common o)
    {
        int size = parse.GetValue(o.Size);
        if (size is < 64 or > 1024) throw new ArgumentException("--size must be 64..1024");
        var catalog = EmojiCatalog.Default;
        int emoji = parse.GetValue(o.Emoji);
        if (emoji < 0 || emoji > catalog.Items.Count) throw new ArgumentException($"--emoji must be 0..{catalog.Items.Count}");
        var sceneEmoji = new EmojiCatalog(catalog.Items.Take(emoji).ToList());
        var renderer = new ShapedRenderer(ShapedProfile.ForImageSize(size));
        var parallel = parse.GetValue(o.ParallelFile) is { } file ? ParallelFile.Read(file) : null;
        return new ExampleGenerator(renderer, Languages.Create(sceneEmoji), sceneEmoji, parallel, o.World.Read(parse));
    }

    private static Command Stream(Func<Func<int>, int> guarded)
    {
        var o = Options();
        var worker = new Option<int>("--worker") { Description = "this process's worker number, 0..workers-1 (writes examples worker, worker+workers, ...)", DefaultValueFactory = _ => 0 };
        var workers = new Option<int>("--workers") { Description = "how many processes share the index space", DefaultValueFactory = _ => 1 };
        var start = new Option<long>("--start") { Description = "index of the first example (a resumed training starts past what it has used)", DefaultValueFactory = _ => 0 };
        var count = new Option<long?>("--count") { Description = "stop after this many examples (default: never)" };
        var command = new Command("stream", "Write seeded examples to stdout in the VQAGEN format (docs/generator-format.md), forever or --count of them");
        foreach (var x in o.All) command.Options.Add(x);
        command.Options.Add(worker);
        command.Options.Add(workers);
        command.Options.Add(start);
        command.Options.Add(count);
        command.SetAction(parse => guarded(() =>
        {
            int w = parse.GetValue(worker), n = parse.GetValue(workers);
            if (n < 1 || w < 0 || w >= n) throw new ArgumentException("--worker must be 0..workers-1");
            if (parse.GetValue(start) < 0) throw new ArgumentException("--start must be at least 0");
            var generator = Create(parse, o);
            using var stdout = Console.OpenStandardOutput();
            using var buffered = new BufferedStream(stdout, 1 << 20);
            ExampleStream.Write(generator, ParseSplit(parse.GetValue(o.Split)!), parse.GetValue(o.Seed), ExampleMix.Parse(parse.GetValue(o.Mix)!),
                buffered, parse.GetValue(start) + w, n, parse.GetValue(count), parse.GetValue(o.Threads), header: true);
            return 0;
        }));
        return command;
    }

    private static Command Shard(Func<Func<int>, int> guarded)
    {
        var o = Options();
        var count = new Option<long>("--count") { Description = "how many examples", Required = true };
        var start = new Option<long>("--start") { Description = "index of the first example", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "the shard file to write (written whole, then renamed into place)", Required = true };
        var meta = new Option<string?>("--meta") { Description = "also write one JSON line per record (texts, languages, label, content key, scene objects, question) to this file" };
        var command = new Command("shard", "Write a finite shard of seeded examples to a file in the VQAGEN format");
        foreach (var x in o.All) command.Options.Add(x);
        command.Options.Add(count);
        command.Options.Add(start);
        command.Options.Add(output);
        command.Options.Add(meta);
        command.SetAction(parse => guarded(() =>
        {
            long n = parse.GetValue(count);
            if (n < 1) throw new ArgumentException("--count must be at least 1");
            var generator = Create(parse, o);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            var partial = path + ".partial";
            var clock = Stopwatch.StartNew();
            var metaPath = parse.GetValue(meta) is { } m ? Path.GetFullPath(m) : null;
            using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var metaWriter = metaPath is null ? null : new StreamWriter(metaPath + ".partial"))
                ExampleStream.Write(generator, ParseSplit(parse.GetValue(o.Split)!), parse.GetValue(o.Seed), ExampleMix.Parse(parse.GetValue(o.Mix)!),
                    file, parse.GetValue(start), 1, n, parse.GetValue(o.Threads), header: true,
                    onExample: metaWriter is null ? null : e => metaWriter.WriteLine(ExampleMeta.Json(generator, e)));
            File.Move(partial, path, overwrite: true);
            if (metaPath is not null) File.Move(metaPath + ".partial", metaPath, overwrite: true);
            Console.Error.WriteLine($"{n} examples in {clock.Elapsed.TotalSeconds:F1} s ({n / clock.Elapsed.TotalSeconds:F0}/s) -> {path}");
            return 0;
        }));
        return command;
    }

    private static Command Preview(Func<Func<int>, int> guarded)
    {
        var o = Options();
        var count = new Option<int>("--count") { Description = "how many examples", DefaultValueFactory = _ => 12 };
        var output = new Option<string>("--out") { Description = "folder for the PNGs and examples.jsonl", Required = true };
        var command = new Command("preview", "Render examples as PNG files (canvas A and B) with their texts and labels, to look at");
        foreach (var x in o.All) command.Options.Add(x);
        command.Options.Add(count);
        command.Options.Add(output);
        command.SetAction(parse => guarded(() =>
        {
            var generator = Create(parse, o);
            var folder = Directory.CreateDirectory(parse.GetValue(output)!).FullName;
            var split = ParseSplit(parse.GetValue(o.Split)!);
            var mix = ExampleMix.Parse(parse.GetValue(o.Mix)!);
            int canvas = generator.Size * generator.Size * 3;
            using var log = new StreamWriter(Path.Combine(folder, "examples.jsonl"));
            for (int i = 0; i < parse.GetValue(count); i++)
            {
                var e = generator.Sample(split, parse.GetValue(o.Seed), i, mix);
                var a = new byte[canvas];
                var b = new byte[canvas];
                generator.Render(e, a, b);
                File.WriteAllBytes(Path.Combine(folder, $"{i:D4}-a.png"), CanvasPng.EncodeRgb(a, generator.Size));
                if (e.Kind is ExampleKind.Caption or ExampleKind.TextPair) File.WriteAllBytes(Path.Combine(folder, $"{i:D4}-b.png"), CanvasPng.EncodeRgb(b, generator.Size));
                if (e.Kind != ExampleKind.Caption && e.Scene is { } scene)
                {
                    generator.Painter.Paint(scene, b); // the scene alone, as a user would upload it
                    File.WriteAllBytes(Path.Combine(folder, $"{i:D4}-scene.png"), CanvasPng.EncodeRgb(b, generator.Size));
                }
                log.WriteLine(ExampleMeta.Json(generator, e));
            }
            Console.WriteLine($"wrote {parse.GetValue(count)} examples to {folder}");
            return 0;
        }));
        return command;
    }

}

/// <summary>Real parallel sentences as a TSV file: languageA, textA, languageB, textB per line (tabs and newlines never occur inside texts).</summary>
public static class ParallelFile
{
    public static IReadOnlyList<ParallelPair> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"parallel sentence file '{path}' does not exist", path);
        var pairs = new List<ParallelPair>();
        int line = 0;
        foreach (var row in File.ReadLines(path))
        {
            line++;
            if (row.Length == 0) continue;
            var f = row.Split('\t');
            if (f.Length != 4) throw new FormatException($"{path}:{line}: expected 4 tab-separated fields (langA, textA, langB, textB), found {f.Length}");
            pairs.Add(new ParallelPair(f[0], f[1], f[2], f[3]));
        }
        return pairs;
    }

    public static void Write(string path, IEnumerable<ParallelPair> pairs)
    {
        using var w = new StreamWriter(path);
        foreach (var p in pairs)
        {
            static string Clean(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
            w.Write($"{p.LanguageA}\t{Clean(p.TextA)}\t{p.LanguageB}\t{Clean(p.TextB)}\n");
        }
    }
}

/// <summary>One example as a JSON line (shard --meta, preview): what a probe or a person needs to know about a record.</summary>
public static class ExampleMeta
{
    public static string Json(ExampleGenerator generator, Example e) => JsonSerializer.Serialize(new
    {
        index = e.Index,
        kind = e.Kind.ToString(),
        textA = e.TextA,
        textB = e.TextB,
        languageA = e.LanguageA,
        languageB = e.LanguageB,
        language = e.LanguageA is >= 0 and < 255 && e.LanguageA < generator.Languages.Count ? generator.Languages[e.LanguageA].Code
                 : e.LanguageB is >= 0 and < 255 && e.LanguageB < generator.Languages.Count ? generator.Languages[e.LanguageB].Code : null,
        label = e.Kind == ExampleKind.Vqa ? Answers.All[e.Label] : e.Kind == ExampleKind.Pair ? ((PairLabel)e.Label).ToString() : null,
        labelIndex = e.Label,
        questionType = e.Kind == ExampleKind.Vqa ? ((QuestionType)e.QuestionType).ToString().ToLowerInvariant() : null,
        contentKey = e.ContentKey.ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
        objects = e.Scene?.Objects.Select(o => new
        {
            shape = o.Shape?.ToString().ToLowerInvariant(),
            color = o.Color?.ToString().ToLowerInvariant(),
            emoji = o.Emoji,
            size = o.Size.ToString().ToLowerInvariant(),
            x = o.X, y = o.Y, radius = o.Radius,
        }),
        question = e.Question is { } q ? new
        {
            type = q.Type.ToString().ToLowerInvariant(),
            subject = new { shape = q.Subject.Shape?.ToString().ToLowerInvariant(), color = q.Subject.Color?.ToString().ToLowerInvariant(), emoji = q.Subject.Emoji },
            relation = q.Relation?.ToString(),
            answer = q.AnswerId,
        } : null,
    });
}
