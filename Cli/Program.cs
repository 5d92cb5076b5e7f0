namespace VqaApi.Cli;

/// <summary>vqa: the command-line verbs (convert, embed, render, eval ...); `vqa serve` runs the HTTP API as `dotnet run --project Api` does.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => CommandLine.RunAsync(args);
}
