using SkiaSharp;

namespace VqaApi.Api.Tests;

public static class ColourImages
{
    /// <summary>A mostly red or mostly blue picture with a few random grey blobs, different for every seed.</summary>
    public static string Base64(string colour, int seed)
    {
        var rng = new Random(seed);
        var main = colour == "red" ? new SKColor((byte)(200 + rng.Next(50)), (byte)rng.Next(40), (byte)rng.Next(40))
                                   : new SKColor((byte)rng.Next(40), (byte)rng.Next(60), (byte)(200 + rng.Next(50)));
        using var bitmap = new SKBitmap(48, 48);
        using (var canvas = new SKCanvas(bitmap))
        using (var blob = new SKPaint { Color = new SKColor(128, 128, 128) })
        {
            canvas.Clear(main);
            for (int i = 0; i < 3; i++) canvas.DrawCircle(rng.Next(48), rng.Next(48), 3 + rng.Next(6), blob);
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return Convert.ToBase64String(data.ToArray());
    }
}
