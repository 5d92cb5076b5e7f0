using System.CommandLine;
using VqaApi.Generation;

// vqa-generate: the stand-alone training data generator (stream, shard, preview). Errors print one line and exit 1.
var root = new RootCommand("vqa-generate: seeded multilingual scenes, captions, questions and sentence pairs, rendered with the service's own renderer");
foreach (var command in GeneratorCommands.All(Guarded)) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();

static int Guarded(Func<int> action)
{
    try { return action(); }
    catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
