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
        Comparisons(seconds);
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

    /// <summary>
    /// The two choices behind the generator's speed, each against what it replaced, side by side in this run: Skia's
    /// scaled image draw against <see cref="ImageScaler"/> (a 224 px scene into 180 px), and text plus shapes drawn on an
    /// RGBA canvas against Skia's native BGRA one.
    /// </summary>
    private static void Comparisons(double seconds)
    {
        var rgb = new byte[224 * 224 * 3];
        new Random(1).NextBytes(rgb);
        var canvas = new byte[224 * 224 * 4];
        using var source = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(224, 224, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque));
        PixelValues.RgbToRgba(rgb, source.GetPixelSpan());
        using var target = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(224, 224, SkiaSharp.SKColorType.Bgra8888, SkiaSharp.SKAlphaType.Premul));
        void SkiaDraw()
        {
            using var c = new SkiaSharp.SKCanvas(target);
            using var image = SkiaSharp.SKImage.FromPixels(source.Info, source.GetPixels(), source.RowBytes);
            c.DrawImage(image, SkiaSharp.SKRect.Create(22, 44, 180, 180), new SkiaSharp.SKSamplingOptions(SkiaSharp.SKFilterMode.Linear, SkiaSharp.SKMipmapMode.None));
        }
        Row("VQA image 224 -> 180 px: Skia scaled draw (before)", Bench.Rate(SkiaDraw, seconds, 50, 20));
        Row("VQA image 224 -> 180 px: ImageScaler (now)", Bench.Rate(() => ImageScaler.ScaleInto(rgb, 224, 224, canvas, 224, 224, 22, 44, 180, 180, PixelOrder.Bgra), seconds, 50, 20));

        using var face = SkiaSharp.SKTypeface.FromFile(Path.Combine(AppContext.BaseDirectory, "fonts", "NotoSans-Regular.ttf")) ?? SkiaSharp.SKTypeface.Default;
        using var font = new SkiaSharp.SKFont(face, 17);
        using var ink = new SkiaSharp.SKPaint { IsAntialias = true, Color = SkiaSharp.SKColors.Black };
        using var fill = new SkiaSharp.SKPaint { IsAntialias = true, Color = new SkiaSharp.SKColor(220, 30, 30) };
        foreach (var type in new[] { SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKColorType.Bgra8888 })
        {
            using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(224, 224, type, SkiaSharp.SKAlphaType.Premul));
            Row($"8 lines of text + 6 circles on a {type} canvas{(type == SkiaSharp.SKColorType.Bgra8888 ? " (now)" : " (before)")}", Bench.Rate(() =>
            {
                using var c = new SkiaSharp.SKCanvas(bitmap);
                c.Clear(SkiaSharp.SKColors.White);
                for (int l = 0; l < 8; l++) c.DrawText("The quick brown fox jumps over", 4, 20 + l * 24, font, ink);
                for (int k = 0; k < 6; k++) c.DrawCircle(30 + k * 30, 120 + k * 10, 20, fill);
            }, seconds, 50, 20));
        }
    }

    private static void Row(string name, double rate) => Console.WriteLine($"| {name} | {rate:F0} |");
}
