using VqaApi.Api;
using VqaApi.Api.Cli;

// The same binary serves HTTP (no verb, or 'serve') and runs command-line verbs (convert, embed, render, eval ...).
if (CommandLine.IsVerb(args)) return await CommandLine.RunAsync(args);

await VqaApp.Build(CommandLine.ServeArguments(args)).RunAsync();
return 0;
