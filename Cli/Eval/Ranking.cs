namespace VqaApi.Cli.Eval;

/// <summary>Recall@k by cosine similarity, where every gallery item with the query's key is a correct answer.</summary>
public static class Ranking
{
    /// <summary>
    /// For each k: the share of queries with a correct item among the top k (ties counted against the query, so a
    /// model that gives everything the same embedding scores 0), and the chance level of the same queries (a random
    /// order of the gallery: 1 - C(G-m, k) / C(G, k) for m correct items among G).
    /// </summary>
    public static (double[] Recall, double[] Chance) Recall(float[][] queries, string[] queryKeys, float[][] gallery, string[] galleryKeys, int[] ks)
    {
        if (queries.Length != queryKeys.Length || gallery.Length != galleryKeys.Length) throw new ArgumentException("one key per embedding");
        var q = queries.Select(Normalized).ToArray();
        var g = gallery.Select(Normalized).ToArray();
        var hits = new double[ks.Length];
        var chance = new double[ks.Length];
        var scores = new float[g.Length];
        for (int i = 0; i < q.Length; i++)
        {
            float best = float.NegativeInfinity;
            int correct = 0;
            for (int j = 0; j < g.Length; j++)
            {
                scores[j] = Dot(q[i], g[j]);
                if (galleryKeys[j] == queryKeys[i]) { correct++; best = Math.Max(best, scores[j]); }
            }
            if (correct == 0) throw new ArgumentException($"query {i} has no correct item in the gallery");
            int above = 0;
            for (int j = 0; j < g.Length; j++)
                if (galleryKeys[j] != queryKeys[i] && !(scores[j] < best)) above++; // NaN and ties count against
            for (int k = 0; k < ks.Length; k++)
            {
                if (above < ks[k]) hits[k]++;
                chance[k] += ChanceAtK(g.Length, correct, ks[k]);
            }
        }
        return (hits.Select(h => h / q.Length).ToArray(), chance.Select(c => c / q.Length).ToArray());
    }

    /// <summary>The probability that a uniformly random order puts one of <paramref name="correct"/> items of <paramref name="total"/> in the top k.</summary>
    public static double ChanceAtK(int total, int correct, int k)
    {
        double none = 1;
        for (int t = 0; t < Math.Min(k, total); t++) none *= Math.Max(0, total - correct - t) / (double)(total - t);
        return 1 - none;
    }

    private static float[] Normalized(float[] v)
    {
        double n = 0;
        foreach (var x in v) n += x * x;
        float s = n > 0 ? (float)(1 / Math.Sqrt(n)) : 0;
        return v.Select(x => x * s).ToArray();
    }

    private static float Dot(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
