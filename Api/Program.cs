using VqaApi.Api.Classify;
using VqaApi.Api.Collections;
using VqaApi.Api.Cli;
using VqaApi.Api.Embed;
using VqaApi.Api.Heads;
using VqaApi.Api.Health;
using VqaApi.Api.Hosting;
using VqaApi.Api.Models;
using VqaApi.Api.Render;
using VqaApi.Api.Vqa;

// The same binary serves HTTP (no verb, or 'serve') and runs command-line verbs (convert, embed, render).
if (CommandLine.IsVerb(args)) return await CommandLine.RunAsync(args);

var builder = WebApplication.CreateBuilder(CommandLine.ServeArguments(args));
builder.AddVqaApi();

var app = builder.Build();
app.MapVqaApi();
app.MapHealth();
app.MapModels();
app.MapEmbed();
app.MapRender();
app.MapZeroShot();
app.MapSimilarity();
app.MapHeads();
app.MapTextClassify();
app.MapVqa();
app.MapCollections();
await app.RunAsync();
return 0;
