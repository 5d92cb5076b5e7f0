using System.Collections.Concurrent;
using System.Runtime.InteropServices;
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

    /// <summary>An emoji glyph drawn once at one pixel size, with the pixel of its ink box's centre.</summary>
    private sealed record Sprite(SKImage Image, int CentreX, int CentreY);

    // Emoji are drawn from sprites rendered once per (emoji, whole pixel size): rasterising a colour glyph means
    // decoding its PNG from the font and rescaling it, which cost more than the rest of a scene together.
    private readonly ConcurrentDictionary<(int Emoji, int Size), Sprite> _sprites = new();

    /// <summary>The emoji's font size for an object of this radius: the glyph's em square spans the diameter.</summary>
    public static int EmojiPixelSize(float radius) => Math.Max(4, (int)MathF.Round(radius * 2f));

    private Sprite SpriteOf(int emoji, int size) => _sprites.GetOrAdd((emoji, size), key =>
    {
        if (_emojiFace is null) throw new InvalidOperationException("the emoji font (Noto Color Emoji) is not loaded");
        using var font = new SKFont(_emojiFace, key.Size);
        using var paint = new SKPaint { IsAntialias = true, Color = SKColors.Black };
        var text = _emoji.Items[key.Emoji].Text;
        font.MeasureText(text, out var bounds, paint);
        const int margin = 2;
        int left = (int)MathF.Floor(bounds.Left) - margin, top = (int)MathF.Floor(bounds.Top) - margin;
        int width = (int)MathF.Ceiling(bounds.Right) + margin - left, height = (int)MathF.Ceiling(bounds.Bottom) + margin - top;
        using var bitmap = new SKBitmap(new SKImageInfo(Math.Max(1, width), Math.Max(1, height), SKColorType.Bgra8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            canvas.DrawText(text, -left, -top, font, paint);
        }
        // The ink box's centre, relative to the sprite's top-left corner, rounded to a whole pixel.
        return new Sprite(SKImage.FromBitmap(bitmap), (int)MathF.Round(bounds.MidX - left), (int)MathF.Round(bounds.MidY - top));
    });

    /// <summary>Paints the scene into an RGB byte canvas of Size x Size x 3.</summary>
    public void Paint(Scene scene, Span<byte> rgb)
    {
        if (rgb.Length != scene.Size * scene.Size * 3) throw new ArgumentException($"destination must hold {scene.Size}x{scene.Size}x3 bytes", nameof(rgb));
        var bitmap = _scratch is { } b && b.Width == scene.Size ? b : (_scratch = new SKBitmap(new SKImageInfo(scene.Size, scene.Size, SKColorType.Bgra8888, SKAlphaType.Premul)));
        FillBackground(bitmap.GetPixelSpan(), scene);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var paint = new SKPaint { IsAntialias = true };
            foreach (var o in scene.Objects) DrawObject(canvas, paint, o);
            canvas.Flush();
        }
        PixelValues.BgraToRgb(bitmap.GetPixelSpan(), rgb);
        // Blur covers the background too: flat and linear-gradient backgrounds are unchanged by it away from the
        // edges, and grain comes after it.
        if (scene.Blur > 0) PixelEffects.Blur(rgb, scene.Size, scene.Blur);
        if (scene.Background == BackgroundKind.Noise) PixelEffects.AddNoise(rgb, scene.NoiseSeed, scene.NoiseAmplitude);
    }

    /// <summary>
    /// Flat, or a linear gradient from the top-left corner (first colour) to the bottom-right (second), written
    /// straight into the BGRA pixels in integers: every pixel on one anti-diagonal x + y shares a colour, so each row
    /// is a slice of one table.
    /// </summary>
    private static void FillBackground(Span<byte> bgra, Scene scene)
    {
        var (c1, c2) = (new SKColor(scene.BackgroundColors[0]), new SKColor(scene.BackgroundColors[1]));
        var pixels = MemoryMarshal.Cast<byte, uint>(bgra);
        int size = scene.Size;
        if (scene.Background != BackgroundKind.Gradient) { pixels.Fill(Bgra(c1.Red, c1.Green, c1.Blue)); return; }
        // Pixel (x, y) samples the gradient at its centre: t = (x + y + 1) / (2 * size).
        var diagonal = new uint[2 * size - 1];
        int span = 2 * size;
        for (int d = 0; d < diagonal.Length; d++)
        {
            int t = d + 1;
            diagonal[d] = Bgra(Mix(c1.Red, c2.Red), Mix(c1.Green, c2.Green), Mix(c1.Blue, c2.Blue));
            byte Mix(byte a, byte b) => (byte)((a * (span - t) + b * t + size) / span);
        }
        for (int y = 0; y < size; y++) diagonal.AsSpan(y, size).CopyTo(pixels.Slice(y * size, size));
    }

    /// <summary>An opaque pixel as Skia's Bgra8888 stores it: bytes B, G, R, A in memory.</summary>
    private static uint Bgra(byte r, byte g, byte b) => BitConverter.IsLittleEndian
        ? b | (uint)g << 8 | (uint)r << 16 | 0xFF000000u
        : (uint)b << 24 | (uint)g << 16 | (uint)r << 8 | 0xFFu;

    private void DrawObject(SKCanvas canvas, SKPaint paint, SceneObject o)
    {
        if (o.Emoji is int e)
        {
            // Centre the glyph's ink box on the object's centre, at a whole pixel.
            var sprite = SpriteOf(e, EmojiPixelSize(o.Radius));
            canvas.DrawImage(sprite.Image, MathF.Round(o.X) - sprite.CentreX, MathF.Round(o.Y) - sprite.CentreY);
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
            case ShapeKind.Triangle: Polygon(p, x, y + 0.2f * r, 1.1f * r, TriangleVertices, 1); break;
            case ShapeKind.Star: Polygon(p, x, y + 0.05f * r, r, StarVertices, 0.45f); break;
            case ShapeKind.Hexagon: Polygon(p, x, y, r, HexagonVertices, 1); break;
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

    // Unit vectors of the vertices as float32 constants, so no machine's libm enters the pixels: (cos a, sin a) for
    // a = start + 360° i / n, as (float)Math.Cos / Math.Sin give them (a test checks each against them).
    public static readonly (float Cos, float Sin)[] TriangleVertices = // start -90°, 3 points
        [(6.12323426e-17f, -1f), (0.866025388f, 0.5f), (-0.866025388f, 0.5f)];
    public static readonly (float Cos, float Sin)[] StarVertices = // start -90°, 10 points (outer, inner, ...)
    [
        (6.12323426e-17f, -1f), (0.587785244f, -0.809017003f), (0.95105654f, -0.309017003f), (0.95105654f, 0.309017003f),
        (0.587785244f, 0.809017003f), (6.12323426e-17f, 1f), (-0.587785244f, 0.809017003f), (-0.95105654f, 0.309017003f),
        (-0.95105654f, -0.309017003f), (-0.587785244f, -0.809017003f),
    ];
    public static readonly (float Cos, float Sin)[] HexagonVertices = // start 0°, 6 points
        [(1f, 0f), (0.5f, 0.866025388f), (-0.5f, 0.866025388f), (-1f, 1.22464685e-16f), (-0.5f, -0.866025388f), (0.5f, -0.866025388f)];

    /// <summary>A regular polygon (inner = 1) or star (odd vertices at <paramref name="inner"/> times the radius).</summary>
    private static void Polygon(SKPath p, float x, float y, float r, (float Cos, float Sin)[] vertices, float inner)
    {
        for (int i = 0; i < vertices.Length; i++)
        {
            float radius = inner < 1 && i % 2 == 1 ? r * inner : r;
            float px = x + radius * vertices[i].Cos, py = y + radius * vertices[i].Sin;
            if (i == 0) p.MoveTo(px, py); else p.LineTo(px, py);
        }
        p.Close();
    }
}
