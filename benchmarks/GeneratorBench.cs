using System.Diagnostics;
using VqaApi.Generation;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;

/// <summary>The training data generator: what each part costs on one thread, and whole examples per second.</summary>
static class GeneratorBench
{
    public static void Run(bool quick)
    {
        double seconds = quick ? 1 : 3;
        var emoji = new EmojiCatalog(EmojiCatalog.Default.Items.Take(GeneratorCommands.DefaultSceneEmoji).ToList());
        var renderer = new ShapedRenderer(new ShapedProfile());
        var generator = new ExampleGenerator(renderer, Languages.Create(emoji), emoji);
        var world = generator.World;
        int canvas = 224 * 224 * 3;
        var a = new byte[canvas];
        var b = new byte[canvas];
        var random = new Random(1);
        var scenes = Enumerable.Range(0, 200).Select(i => world.RandomScene(new Random(i))).ToArray();
        var captions = Enumerable.Range(0, 200).Select(i => generator.Languages[i % 12].Caption(WorldSampler.CaptionOf(scenes[i], new Random(i), false), 1, new Random(i))).ToArray();
        var image = new DecodedImage(224, 224, new byte[canvas], "png", 1);
        int k = 0;

        Console.WriteLine();
        Console.WriteLine("## Training data generator, 224 px, uint8 canvases");
        Console.WriteLine();
        Console.WriteLine("| part (one thread) | per second |");
        Console.WriteLine("|---|---:|");
        Row("scene: sample only (no pixels)", Bench.Rate(() => world.RandomScene(random), seconds, 50, 20));
        Row("scene: paint", Bench.Rate(() => generator.Painter.Paint(scenes[k++ % 200], a), seconds, 50, 20));
        // Where painting goes: the same scenes without blur, without noise, and shapes alone.
        var noBlur = scenes.Select(s => s with { Blur = 0 }).ToArray();
        var plain = noBlur.Select(s => s with { Background = s.Background == BackgroundKind.Noise ? BackgroundKind.Flat : s.Background }).ToArray();
        var shapes = Enumerable.Range(0, 200).Select(i => new WorldSampler(224, 0).RandomScene(new Random(i)) with { Blur = 0, Background = BackgroundKind.Flat }).ToArray();
        Row("scene: paint without blur", Bench.Rate(() => generator.Painter.Paint(noBlur[k++ % 200], a), seconds, 50, 20));
        Row("scene: paint without blur or noise", Bench.Rate(() => generator.Painter.Paint(plain[k++ % 200], a), seconds, 50, 20));
        Row("scene: paint shapes only (no emoji), without blur or noise", Bench.Rate(() => generator.Painter.Paint(shapes[k++ % 200], a), seconds, 50, 20));
        Row("caption text: sample only", Bench.Rate(() => generator.Languages[k % 12].Caption(WorldSampler.CaptionOf(scenes[k++ % 200], random, false), 1, random), seconds, 50, 20));
        Row("caption text: render (12 languages)", Bench.Rate(() => renderer.RenderTextRgb(captions[k++ % 200], a), seconds, 50, 20));
        Row("VQA layout: render", Bench.Rate(() => renderer.RenderVqaRgb("How many red circles are there?", image, a), seconds, 50, 20));
        Row("pair layout: render", Bench.Rate(() => renderer.RenderPairRgb(captions[k % 200], captions[(k++ + 1) % 200], a), seconds, 50, 20));
        long index = 0;
        // Warmed up on 3,000 examples first: emoji sprites are drawn once per emoji and size, then reused.
        double one = Bench.Rate(() => generator.Render(generator.Sample(Split.Train, 1, index++, ExampleMix.Default), a, b), seconds, 3000, 20);
        Row("whole example, default mix (caption=4,text=2,vqa=3,pair=1)", one);

        int threads = Environment.ProcessorCount;
        using var sink = Stream.Null;
        var sw = Stopwatch.StartNew();
        long n = ExampleStream.Write(generator, Split.Train, 2, ExampleMix.Default, sink, 0, 1, quick ? 400 : 2000, threads, header: true);
        Console.WriteLine();
        Console.WriteLine($"Stream writer, {threads} threads in one process: {n / sw.Elapsed.TotalSeconds:F0} examples/s ({n / sw.Elapsed.TotalSeconds / threads:F0} per core).");
    }

    private static void Row(string name, double rate) => Console.WriteLine($"| {name} | {rate:F0} |");
}
