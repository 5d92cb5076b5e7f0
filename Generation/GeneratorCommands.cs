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

    private sealed record Common(Option<ulong> Seed, Option<string> Split, Option<int> Size, Option<string> Mix, Option<int> Threads, Option<int> Emoji, Option<string?> ParallelFile)
    {
        public IEnumerable<Option> All => [Seed, Split, Size, Mix, Threads, Emoji, ParallelFile];
    }

    private static Common Options() => new(
        new Option<ulong>("--seed") { Description = "the seed: the same seed (and options) gives the same bytes", DefaultValueFactory = _ => 0 },
        new Option<string>("--split") { Description = "train, heldout or novel (held-out attribute-object combinations)", DefaultValueFactory = _ => "train" },
        new Option<int>("--size") { Description = "canvas size in pixels (the shaped profile shaped-SIZE)", DefaultValueFactory = _ => 224 },
        new Option<string>("--mix") { Description = "relative weights of the example kinds", DefaultValueFactory = _ => "caption=4,text=2,vqa=3,pair=1" },
        new Option<int>("--threads") { Description = "rendering threads in this process", DefaultValueFactory = _ => 1 },
        new Option<int>("--emoji") { Description = "how many catalogue emoji scenes draw from (the first N)", DefaultValueFactory = _ => DefaultSceneEmoji },
        new Option<string?>("--parallel-file") { Description = "TSV of real parallel sentences (langA, textA, langB, textB), e.g. from `parallel-export`; none by default" });

    public static IEnumerable<Command> All(Func<Func<int>, int> guarded) => [Stream(guarded), Shard(guarded), Preview(guarded), ParallelExport(guarded)];

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
        var renderer = new ShapedRenderer(new ShapedProfile { Name = $"shaped-{size}", ImageSize = size });
        var parallel = parse.GetValue(o.ParallelFile) is { } file ? ParallelFile.Read(file) : null;
        return new ExampleGenerator(renderer, Languages.Create(sceneEmoji), sceneEmoji, parallel);
    }

    private static Command Stream(Func<Func<int>, int> guarded)
    {
        var o = Options();
        var worker = new Option<int>("--worker") { Description = "this process's worker number, 0..workers-1 (writes examples worker, worker+workers, ...)", DefaultValueFactory = _ => 0 };
        var workers = new Option<int>("--workers") { Description = "how many processes share the index space", DefaultValueFactory = _ => 1 };
        var count = new Option<long?>("--count") { Description = "stop after this many examples (default: never)" };
        var command = new Command("stream", "Write seeded examples to stdout in the VQAGEN format (docs/generator-format.md), forever or --count of them");
        foreach (var x in o.All) command.Options.Add(x);
        command.Options.Add(worker);
        command.Options.Add(workers);
        command.Options.Add(count);
        command.SetAction(parse => guarded(() =>
        {
            int w = parse.GetValue(worker), n = parse.GetValue(workers);
            if (n < 1 || w < 0 || w >= n) throw new ArgumentException("--worker must be 0..workers-1");
            var generator = Create(parse, o);
            using var stdout = Console.OpenStandardOutput();
            using var buffered = new BufferedStream(stdout, 1 << 20);
            ExampleStream.Write(generator, ParseSplit(parse.GetValue(o.Split)!), parse.GetValue(o.Seed), ExampleMix.Parse(parse.GetValue(o.Mix)!),
                buffered, w, n, parse.GetValue(count), parse.GetValue(o.Threads), header: true);
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
        var command = new Command("shard", "Write a finite shard of seeded examples to a file in the VQAGEN format");
        foreach (var x in o.All) command.Options.Add(x);
        command.Options.Add(count);
        command.Options.Add(start);
        command.Options.Add(output);
        command.SetAction(parse => guarded(() =>
        {
            long n = parse.GetValue(count);
            if (n < 1) throw new ArgumentException("--count must be at least 1");
            var generator = Create(parse, o);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            var partial = path + ".partial";
            var clock = Stopwatch.StartNew();
            using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                ExampleStream.Write(generator, ParseSplit(parse.GetValue(o.Split)!), parse.GetValue(o.Seed), ExampleMix.Parse(parse.GetValue(o.Mix)!),
                    file, parse.GetValue(start), 1, n, parse.GetValue(o.Threads), header: true);
            File.Move(partial, path, overwrite: true);
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
                log.WriteLine(JsonSerializer.Serialize(new
                {
                    index = i, kind = e.Kind.ToString(), textA = e.TextA, textB = e.TextB, e.LanguageA, e.LanguageB,
                    label = e.Kind == ExampleKind.Vqa ? Answers.All[e.Label] : e.Kind == ExampleKind.Pair ? ((PairLabel)e.Label).ToString() : null,
                    objects = e.Scene?.Objects,
                }));
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
