using Xunit.Abstractions;

namespace VqaApi.Generation.Tests;

public class ParallelCorpusTests(ITestOutputHelper output)
{
    private static bool HaveSystemCatalogues =>
        Directory.Exists(Path.Combine(ParallelCorpus.DefaultRoot, "de", "LC_MESSAGES")) &&
        File.Exists(Path.Combine(ParallelCorpus.DefaultRoot, "de", "LC_MESSAGES", "gtk30.mo"));

    private static readonly Lazy<ParallelCorpus> SystemCorpus = new(() => ParallelCorpus.Load());

    [Fact]
    public void SystemCataloguesGiveManyLanguages()
    {
        if (!HaveSystemCatalogues) { output.WriteLine("no gettext catalogues under /usr/share/locale: skipped"); return; }
        var corpus = SystemCorpus.Value;
        var s = corpus.Stats;
        output.WriteLine($"{s.CataloguesRead} catalogues read, {s.CataloguesSkipped} skipped, {s.EntriesRead} entries, {s.InvalidEntries} invalid; " +
                         $"{s.Keys} keys ({s.HeldOutKeys} held out), {s.Translations} translations, {corpus.Languages.Count} languages; {s.LoadTime.TotalMilliseconds:F0} ms");
        foreach (var r in s.Skipped.Take(10)) output.WriteLine("skipped " + r);
        var rich = s.TranslationsPerLanguage.Where(kv => kv.Value >= 100).Select(kv => kv.Key).ToArray();
        output.WriteLine($"{rich.Length} languages with >= 100 translations");
        Assert.True(rich.Length >= 20, $"only {rich.Length} languages with 100 translations");
        foreach (var l in new[] { "de", "fr", "es", "ru", "ja", "zh" }) Assert.Contains(l, rich);
        Assert.Contains("en", corpus.Languages);
        // A smoke bound only (about 2 s alone on 2 cores; tests run side by side).
        Assert.True(s.LoadTime < TimeSpan.FromSeconds(30), $"loading took {s.LoadTime}");

        foreach (var (a, b) in corpus.Pairs("de", "fr", heldOut: false).Take(5)) output.WriteLine($"{a.Key} | {a.Text} | {b.Text}");
        Assert.True(corpus.Pairs("de", "fr", heldOut: false).Count() >= 100);
    }

    [Fact]
    public void SplitIsDisjointAndFollowsTheHash()
    {
        if (!HaveSystemCatalogues) return;
        var corpus = SystemCorpus.Value;
        var training = corpus.Pairs(heldOut: false);
        var held = corpus.Pairs(heldOut: true);
        Assert.NotEmpty(training);
        Assert.NotEmpty(held);
        var trainingKeys = training.Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(training.Count, trainingKeys.Count);
        Assert.DoesNotContain(held, g => trainingKeys.Contains(g.Key));
        Assert.All(training, g => Assert.False(ParallelCorpus.IsHeldOut(g.Key)));
        Assert.All(held, g => Assert.True(ParallelCorpus.IsHeldOut(g.Key)));
        var share = (double)held.Count / (held.Count + training.Count);
        Assert.InRange(share, 0.07, 0.13);
        Assert.All(training.Concat(held), g =>
        {
            Assert.Equal("en", g.Sentences[0].Language);
            Assert.True(g.Sentences.Count >= 2);
            Assert.All(g.Sentences, s => Assert.Equal(g.Key, s.Key));
            Assert.Equal(g.Sentences.Count, g.Sentences.Select(s => s.Language).Distinct().Count());
        });
    }

    [Fact]
    public void LoadingIsDeterministic()
    {
        if (!HaveSystemCatalogues) return;
        string[] domains = ["gtk30", "glib20", "iso_3166"];
        var a = ParallelCorpus.Load(domains: domains, maxPerLanguage: 300);
        var b = ParallelCorpus.Load(domains: domains.Reverse(), maxPerLanguage: 300);
        Assert.Equal(a.Languages, b.Languages);
        foreach (var held in new[] { false, true })
        {
            var x = a.Pairs(held).SelectMany(g => g.Sentences).ToArray();
            var y = b.Pairs(held).SelectMany(g => g.Sentences).ToArray();
            Assert.Equal(x, y);
        }
        Assert.All(a.Stats.TranslationsPerLanguage.Values, n => Assert.InRange(n, 1, 300));
    }

    [Fact]
    public void TextsAreCleanSentences()
    {
        if (!HaveSystemCatalogues) return;
        foreach (var g in SystemCorpus.Value.Pairs(heldOut: false).Take(5000))
        {
            Assert.True(g.Key.Split(' ').Length >= 2);
            Assert.True(g.Key.Length <= ParallelCorpus.MaxChars);
            foreach (var s in g.Sentences)
            {
                Assert.DoesNotContain('%', s.Text);
                Assert.DoesNotContain('<', s.Text);
                Assert.DoesNotContain('{', s.Text);
                if (s.Language != "en") Assert.NotEqual(g.Key, s.Text, StringComparer.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public void BuildsFromHandMadeCataloguesAndSkipsBadOnes()
    {
        var root = Directory.CreateTempSubdirectory("locale-test");
        try
        {
            void Put(string lang, string domain, byte[] bytes)
            {
                var dir = Path.Combine(root.FullName, lang, "LC_MESSAGES");
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, domain + ".mo"), bytes);
            }
            Put("de", "app", MoWriter.Write([("_Open the file", "Datei ö_ffnen"), ("Save %s now", "%s jetzt speichern"), ("Close", "Schließen"),
                ("Same text here", "Same text here"), ("<b>Bold</b> words", "<b>Fett</b> Wörter"), ("menu\u0004Quit the app", "App beenden")]));
            Put("ja", "app", MoWriter.Write([("_Open the file", "ファイルを開く(_O)"), ("Quit the app", "終了")], bigEndian: true));
            Put("fr", "app", [1, 2, 3]);
            Put("en_GB", "app", MoWriter.Write([("_Open the file", "Open the file, mate")]));
            Put("de", "other", MoWriter.Write([("_Open the file", "Nicht diese")]));

            var c = ParallelCorpus.Load(root.FullName, ["app"], int.MaxValue);
            Assert.Equal(["de", "en", "ja"], c.Languages);
            Assert.Equal(1, c.Stats.CataloguesSkipped);
            Assert.Contains("fr/app.mo", c.Stats.Skipped[0]);
            var groups = c.Pairs(false).Concat(c.Pairs(true)).ToDictionary(g => g.Key);
            Assert.Equal(["Open the file", "Quit the app"], groups.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("Datei öffnen", groups["Open the file"].In("de")!.Text);
            Assert.Equal("ファイルを開く", groups["Open the file"].In("ja")!.Text);
            Assert.Equal("App beenden", groups["Quit the app"].In("de")!.Text);

            var empty = ParallelCorpus.Load(Path.Combine(root.FullName, "missing"));
            Assert.Empty(empty.Languages);
            Assert.Empty(empty.Pairs(false));
        }
        finally { root.Delete(true); }
    }

    [Theory]
    [InlineData("pt_BR", "pt-BR")]
    [InlineData("de", "de")]
    [InlineData("sr@latin", "sr-Latn")]
    [InlineData("zh_CN", "zh")]
    [InlineData("zh_TW", "zh-Hant")]
    [InlineData("en_GB", null)]
    [InlineData("en@quot", null)]
    [InlineData("ca@valencia", null)]
    [InlineData("locale.alias", null)]
    public void LanguageCodes(string dir, string? expected) => Assert.Equal(expected, ParallelCorpus.LanguageOf(dir));
}
