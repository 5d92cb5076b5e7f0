using SkiaSharp;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Generation;

/// <summary>
/// Draws a <see cref="Scene"/> with Skia: its background, then each object in order (later ones on top), each
/// shape filled with its palette colour and outlined in dark grey so overlaps stay legible, emoji from Noto Color
/// Emoji. Deterministic: the scene (including its noise seed and blur) fixes every pixel.
/// </summary>
public sealed class ScenePainter
{
    /// <summary>The palette: saturated, mutually distinct colours, readable on the light backgrounds.</summary>
    public static SKColor ColorOf(ObjectColor c) => c switch
    {
        ObjectColor.Red => new SKColor(220, 30, 30),
        ObjectColor.Orange => new SKColor(250, 140, 0),
        ObjectColor.Yellow => new SKColor(235, 205, 0),
        ObjectColor.Green => new SKColor(30, 160, 50),
        ObjectColor.Blue => new SKColor(30, 80, 225),
        ObjectColor.Purple => new SKColor(135, 50, 185),
        ObjectColor.Pink => new SKColor(255, 110, 190),
        ObjectColor.Black => new SKColor(25, 25, 25),
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    private static readonly SKColor Outline = new(70, 70, 70);
    private readonly EmojiCatalog _emoji;
    private readonly SKTypeface? _emojiFace;

    public ScenePainter(EmojiCatalog emoji, FontCatalog? fonts = null)
    {
        _emoji = emoji;
        _emojiFace = (fonts ?? FontCatalog.Default).Emoji?.Typeface;
    }

    [ThreadStatic] private static SKBitmap? _scratch;

    /// <summary>Paints the scene into an RGB byte canvas of Size x Size x 3.</summary>
    public void Paint(Scene scene, Span<byte> rgb)
    {
        if (rgb.Length != scene.Size * scene.Size * 3) throw new ArgumentException($"destination must hold {scene.Size}x{scene.Size}x3 bytes", nameof(rgb));
        var bitmap = _scratch is { } b && b.Width == scene.Size ? b : (_scratch = new SKBitmap(new SKImageInfo(scene.Size, scene.Size, SKColorType.Rgba8888, SKAlphaType.Premul)));
        using (var canvas = new SKCanvas(bitmap))
        {
            DrawBackground(canvas, scene);
            using var paint = new SKPaint { IsAntialias = true };
            using var layerPaint = scene.Blur > 0 ? new SKPaint { ImageFilter = SKImageFilter.CreateBlur(scene.Blur, scene.Blur) } : null;
            if (layerPaint is not null) canvas.SaveLayer(layerPaint);
            foreach (var o in scene.Objects) DrawObject(canvas, paint, o);
            if (layerPaint is not null) canvas.Restore();
            canvas.Flush();
        }
        PixelValues.RgbaToRgb(bitmap.GetPixelSpan(), rgb);
        if (scene.Background == BackgroundKind.Noise) AddNoise(rgb, scene.NoiseSeed, scene.NoiseAmplitude);
    }

    private static void DrawBackground(SKCanvas canvas, Scene scene)
    {
        var (c1, c2) = (new SKColor(scene.BackgroundColors[0]), new SKColor(scene.BackgroundColors[1]));
        if (scene.Background == BackgroundKind.Gradient)
        {
            using var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(scene.Size, scene.Size), [c1, c2], SKShaderTileMode.Clamp);
            using var p = new SKPaint { Shader = shader };
            canvas.DrawRect(0, 0, scene.Size, scene.Size, p);
        }
        else canvas.Clear(c1);
    }

    // Grain comes from one fixed table of uniform values in [-64, 64], read from a per-scene offset: drawing a
    // random number per byte cost more than painting the whole scene.
    private const int NoiseTableBits = 18;
    private static readonly sbyte[] NoiseTable = MakeNoiseTable();

    private static sbyte[] MakeNoiseTable()
    {
        var random = new Random(20261126);
        var table = new sbyte[1 << NoiseTableBits];
        for (int i = 0; i < table.Length; i++) table[i] = (sbyte)random.Next(-64, 65);
        return table;
    }

    /// <summary>Grain over the whole canvas (objects included) of at most +-amplitude, from the scene's own seed.</summary>
    private static void AddNoise(Span<byte> rgb, int seed, int amplitude)
    {
        const int mask = (1 << NoiseTableBits) - 1;
        int offset = seed & mask;
        var table = NoiseTable;
        for (int i = 0; i < rgb.Length; i++)
        {
            int v = rgb[i] + table[(offset + i) & mask] * amplitude / 64;
            rgb[i] = (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }

    private void DrawObject(SKCanvas canvas, SKPaint paint, SceneObject o)
    {
        if (o.Emoji is int e)
        {
            if (_emojiFace is null) throw new InvalidOperationException("the emoji font (Noto Color Emoji) is not loaded");
            using var font = new SKFont(_emojiFace, o.Radius * 2f);
            paint.Style = SKPaintStyle.Fill;
            paint.Color = SKColors.Black;
            // Centre the glyph's ink box on the object's centre.
            var text = _emoji.Items[e].Text;
            font.MeasureText(text, out var bounds, paint);
            canvas.DrawText(text, o.X - bounds.MidX, o.Y - bounds.MidY, font, paint);
            return;
        }
        using var path = ShapePath(o.Shape!.Value, o.X, o.Y, o.Radius);
        paint.Style = SKPaintStyle.Fill;
        paint.Color = ColorOf(o.Color!.Value);
        canvas.DrawPath(path, paint);
        paint.Style = SKPaintStyle.Stroke;
        paint.StrokeWidth = Math.Max(1f, o.Radius / 12f);
        paint.Color = Outline;
        canvas.DrawPath(path, paint);
    }

    /// <summary>Each shape fits the circle of radius r around (x, y) and contains its centre.</summary>
    public static SKPath ShapePath(ShapeKind shape, float x, float y, float r)
    {
        var p = new SKPath();
        switch (shape)
        {
            case ShapeKind.Circle: p.AddCircle(x, y, r); break;
            case ShapeKind.Square: p.AddRect(SKRect.Create(x - 0.75f * r, y - 0.75f * r, 1.5f * r, 1.5f * r)); break;
            case ShapeKind.Triangle: Polygon(p, x, y + 0.2f * r, 1.1f * r, 3, -90, 1); break;
            case ShapeKind.Star: Polygon(p, x, y + 0.05f * r, r, 5, -90, 0.45f); break;
            case ShapeKind.Hexagon: Polygon(p, x, y, r, 6, 0, 1); break;
            case ShapeKind.Diamond:
                p.MoveTo(x, y - r); p.LineTo(x + 0.65f * r, y); p.LineTo(x, y + r); p.LineTo(x - 0.65f * r, y); p.Close();
                break;
            case ShapeKind.Cross:
                float a = 0.3f * r, l = 0.9f * r;
                p.MoveTo(x - a, y - l); p.LineTo(x + a, y - l); p.LineTo(x + a, y - a); p.LineTo(x + l, y - a); p.LineTo(x + l, y + a);
                p.LineTo(x + a, y + a); p.LineTo(x + a, y + l); p.LineTo(x - a, y + l); p.LineTo(x - a, y + a); p.LineTo(x - l, y + a);
                p.LineTo(x - l, y - a); p.LineTo(x - a, y - a); p.Close();
                break;
            case ShapeKind.Heart:
                float top = y - 0.45f * r;
                p.MoveTo(x, y + 0.85f * r);
                p.CubicTo(x - 1.3f * r, y - 0.1f * r, x - 0.75f * r, y - 1.05f * r, x, top);
                p.CubicTo(x + 0.75f * r, y - 1.05f * r, x + 1.3f * r, y - 0.1f * r, x, y + 0.85f * r);
                p.Close();
                break;
            default: throw new ArgumentOutOfRangeException(nameof(shape));
        }
        return p;
    }

    /// <summary>A regular polygon (inner = 1) or star (inner = ratio of the inner radius) with n points.</summary>
    private static void Polygon(SKPath p, float x, float y, float r, int n, float startDegrees, float inner)
    {
        int points = inner < 1 ? 2 * n : n;
        for (int i = 0; i < points; i++)
        {
            double angle = (startDegrees + 360.0 * i / points) * Math.PI / 180;
            float radius = inner < 1 && i % 2 == 1 ? r * inner : r;
            float px = x + radius * (float)Math.Cos(angle), py = y + radius * (float)Math.Sin(angle);
            if (i == 0) p.MoveTo(px, py); else p.LineTo(px, py);
        }
        p.Close();
    }
}
