using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

/// <summary>
/// A small request must not cost gigabytes. The service runs as its own process (default limits, the test model) and
/// answers requests built to amplify memory; its peak resident memory (VmHWM) may grow by at most the stated bound over
/// its peak after a warm-up request. The figures are printed.
/// </summary>
public sealed class MemoryBoundTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The stated bound: Limits:MaxDecodedBytesPerRequest (300 MiB) plus 100 MiB for everything else.</summary>
    private const long BoundBytes = 400L * 1024 * 1024;
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-memory-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static long PeakRss(Process p)
    {
        foreach (var line in File.ReadLines($"/proc/{p.Id}/status"))
            if (line.StartsWith("VmHWM:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmHWM");
    }

    /// <summary>A 1-bit grayscale PNG of side x side pixels, all black: a few kilobytes.</summary>
    private static byte[] Bomb(int side) =>
        VqaApi.Rendering.Tests.TestImages.Png(side, side, 1, 0, VqaApi.Rendering.Tests.TestImages.Scanlines(Enumerable.Repeat(new byte[(side + 7) / 8], side).ToArray()));

    [Fact]
    public async Task Sixteen_decompression_bombs_in_one_small_request_stay_within_the_bound()
    {
        using var factory = new ApiFactory(); // converts the test model only
        await using var service = await ServiceProcess.StartAsync("127.0.0.1", $"--Model:Path={factory.ModelPath}", "--Model:CreatePlaceholderIfMissing=false",
            $"--Collections:Root={Path.Combine(_dir, "c")}");
        var (process, http) = (service.Process, service.Http);
        // Warm-up: one ordinary image and text.
        using (var warm = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Png(300, 200)), "images", "a.png" }, { new StringContent("hello"), "texts" } })
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/embed", warm)).StatusCode);
        long baseline = PeakRss(process);

        var bomb = Bomb(6324); // 40.0 M pixels, just under Limits:MaxImagePixels
        using var form = new MultipartFormDataContent();
        for (int i = 0; i < 16; i++) form.Add(new ByteArrayContent(bomb), "images", $"bomb{i}.png");
        long requestBytes = (await form.ReadAsByteArrayAsync()).Length;
        var response = await http.PostAsync("/v1/embed", form);
        long peak = PeakRss(process);
        output.WriteLine($"request {requestBytes:N0} bytes (16 PNGs of 6,324 x 6,324, {bomb.Length:N0} bytes each): {(int)response.StatusCode}; " +
                         $"peak RSS {baseline / 1048576.0:F0} MiB after warm-up -> {peak / 1048576.0:F0} MiB (+{(peak - baseline) / 1048576.0:F0} MiB; bound {BoundBytes / 1048576} MiB)");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // served, one decoded image at a time
        Assert.True(peak - baseline <= BoundBytes, $"peak RSS grew by {(peak - baseline) / 1048576.0:F0} MiB");

        // A head fitted on such images: each example's image is fetched, decoded and given back as it is embedded.
        var b64 = Convert.ToBase64String(bomb);
        var examples = Enumerable.Range(0, 8).Select(i => new { label = i % 2 == 0 ? "a" : "b", image = new { data = b64 } }).ToArray();
        var fit = await http.PostAsync("/v1/heads", System.Net.Http.Json.JsonContent.Create(new { name = "bombs", task = "image", examples, validation_fraction = 0 }));
        long afterFit = PeakRss(process);
        output.WriteLine($"head fit on 8 such images: {(int)fit.StatusCode}; peak RSS +{(afterFit - baseline) / 1048576.0:F0} MiB over the warm-up");
        Assert.Equal(HttpStatusCode.Created, fit.StatusCode);
        Assert.True(afterFit - baseline <= BoundBytes, $"peak RSS grew by {(afterFit - baseline) / 1048576.0:F0} MiB");

        // Colour: 8-bit RGB PNGs of 40 M pixels decode through a whole RGBA copy (7 bytes a pixel at the peak).
        var colour = VqaApi.Rendering.Tests.TestImages.Png(6324, 6324, 8, 2,
            VqaApi.Rendering.Tests.TestImages.Scanlines(Enumerable.Repeat(new byte[6324 * 3], 6324).ToArray()));
        using var colours = new MultipartFormDataContent();
        for (int i = 0; i < 4; i++) colours.Add(new ByteArrayContent(colour), "images", $"colour{i}.png");
        var coloured = await http.PostAsync("/v1/embed", colours);
        long afterColour = PeakRss(process);
        output.WriteLine($"4 RGB PNGs of 6,324 x 6,324 ({colour.Length:N0} bytes each): {(int)coloured.StatusCode}; peak RSS +{(afterColour - baseline) / 1048576.0:F0} MiB over the warm-up");
        Assert.Equal(HttpStatusCode.OK, coloured.StatusCode);
        Assert.True(afterColour - baseline <= BoundBytes, $"peak RSS grew by {(afterColour - baseline) / 1048576.0:F0} MiB");
    }
}
