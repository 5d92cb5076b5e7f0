using VqaApi.Api;

// The HTTP API. The command-line verbs live in the vqa tool (Cli/): `dotnet run --project Cli -- convert ...`.
if (args.Length > 0 && ApiVerbs.Moved.Contains(args[0]))
{
    Console.Error.WriteLine($"error: '{args[0]}' is a verb of the vqa tool: dotnet run --project Cli -- {string.Join(' ', args)}");
    return 2;
}
WebApplication app;
try { app = VqaApp.Build(args.Length > 0 && args[0] == "serve" ? args[1..] : args); }
catch (StartupException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
await app.RunAsync();
return 0;

namespace VqaApi.Api
{
    internal static class ApiVerbs
    {
        /// <summary>Verbs that this binary had before they moved to the vqa tool: named, so an old command says where to go.</summary>
        public static readonly string[] Moved = ["convert", "embed", "render", "gallery", "fit-head", "index", "reembed", "eval", "generate"];
    }
}
