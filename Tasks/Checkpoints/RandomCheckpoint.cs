namespace VqaApi.Tasks.Checkpoints;

/// <summary>
/// A randomly initialised CLIPPO parameter tree of any shape: for the placeholder model, for tests of the
/// conversion at shapes other than the official one, and for benchmarks. Biases and LayerNorm parameters
/// are random too, so a converter that ignores one of them cannot pass a comparison.
/// </summary>
public static class RandomCheckpoint
{
    public static Dictionary<string, NpyArray> CreateParameters(VitArchitecture architecture, int seed, float logTemperature = 2.302585f)
    {
        var rng = new Random(seed);
        var p = new Dictionary<string, NpyArray>();
        foreach (var (key, shape) in ClippoCheckpoint.ExpectedShapes(architecture).OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            int count = shape.Aggregate(1, (x, y) => x * y);
            var data = new float[count];
            if (key == "t") data[0] = logTemperature;
            else
            {
                // Fan-in scaled kernels keep activations in a sane range at any depth.
                float std = key.EndsWith("/kernel") ? 1f / MathF.Sqrt(FanIn(key, shape)) : key.EndsWith("scale") ? 0.2f : 0.1f;
                float mean = key.EndsWith("scale") ? 1f : 0f;
                for (int i = 0; i < count; i++) data[i] = mean + std * Gaussian(rng);
            }
            p[key] = new NpyArray(shape, data);
        }
        return p;
    }

    public static ClippoCheckpoint Create(VitArchitecture architecture, int seed)
    {
        var parameters = CreateParameters(architecture, seed);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var (key, array) in parameters.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.Data.AsSpan()));
        }
        return ClippoCheckpoint.FromParameters(parameters, Convert.ToHexStringLower(sha.GetHashAndReset()), $"random (seed {seed})");
    }

    /// <summary>Writes a parameter tree as a big_vision-style .npz (keys prefixed with <c>params/</c>).</summary>
    public static void Save(string path, Dictionary<string, NpyArray> parameters, NpyDType dtype = NpyDType.Float32) =>
        NpzFile.Write(path, parameters.Select(kv => KeyValuePair.Create(ClippoCheckpoint.Prefix + kv.Key, kv.Value)), dtype);

    private static int FanIn(string key, int[] shape) => key switch
    {
        _ when key.EndsWith("embedding/kernel") => shape[0] * shape[1] * shape[2],
        _ when key.Contains("/out/kernel") => shape[0] * shape[1],
        _ => shape[0],
    };

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
