namespace VqaApi.Api.Hosting;

/// <summary>What the OpenAPI examples are made of: data the service reads without the network, and names that exist once
/// the examples before them have run (PUT a collection, then add items to it).</summary>
public static class DocExamples
{
    /// <summary>docs/tour/scene.png (a purple circle, a blue cross, a blue square), base64.</summary>
    public static readonly string TourSceneBase64 = Load();

    public const string Collection = "docs", Item = "doc-1", ImageItem = "scene-1", Head = "sentiment";

    private static string Load()
    {
        using var stream = typeof(DocExamples).Assembly.GetManifestResourceStream("VqaApi.TourScene.png")
                           ?? throw new InvalidOperationException("the tour scene is not embedded in the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Convert.ToBase64String(copy.ToArray());
    }
}
