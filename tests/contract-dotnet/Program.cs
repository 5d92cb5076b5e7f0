// Calls every operation of the service with the Kiota-generated client, as generated (JSON bodies: Kiota sends the
// JSON form of operations that also take multipart; the TypeScript client covers the forms). Usage: ContractClient BASE_URL SCENE_PNG
using Contract.Client;
using Contract.Client.Models;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

var (baseUrl, scenePath) = (args[0], args[1]);
var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider()) { BaseUrl = baseUrl };
var client = new VqaClient(adapter);
var scene = Convert.ToBase64String(File.ReadAllBytes(scenePath));
var calls = new List<string>();
void Check(string name, bool ok, object? detail)
{
    if (!ok) throw new InvalidOperationException($"{name}: {System.Text.Json.JsonSerializer.Serialize(detail)}");
    calls.Add(name);
}

Check("GET /healthz", (await client.Healthz.GetAsync())?.Status == "alive", null);
Check("GET /readyz", (await client.Readyz.GetAsync())?.Status == "ready", null);
var models = await client.V1.Models.GetAsync();
Check("GET /v1/models", models is [{ Architecture.Width: > 0 }], models?.Count);
var embedded = await client.V1.Embed.PostAsync(new() { Texts = ["a photo of a cat", "ein Foto einer Katze"], IncludePreLogits = true });
Check("POST /v1/embed", embedded?.Texts is [{ Embedding.Count: > 0 }, _] && embedded.Texts[0].Embedding!.Count == embedded.Dimensions, embedded?.Dimensions);
var rendered = await client.V1.Render.PostAsync(new() { Text = "Hello, CLIPPO" });
Check("POST /v1/render", rendered?.Size > 0 && rendered.Png?.Length > 0, rendered?.Size);
var similar = await client.V1.Similarity.PostAsync(new() { A = new() { Text = "a red car" }, B = new() { Text = "una macchina rossa" } });
Check("POST /v1/similarity", similar?.Cosine is <= 1 and >= -1, similar?.Cosine);
var zeroShot = await client.V1.Classify.ZeroShot.PostAsync(new() { Image = new() { Data = scene }, CandidateLabels = ["circle", "Kreis", "円"], TopK = 2 });
Check("POST /v1/classify/zero-shot", zeroShot?.Labels?.Count == 2, zeroShot?.Labels?.Count);
var answer = await client.V1.Vqa.PostAsync(new() { Image = new() { Data = scene }, Question = "How many shapes are there?" });
Check("POST /v1/vqa", answer?.Method == "head" && answer.Answers?.Count > 0, answer?.Method);
var head = await client.V1.Heads.PostAsync(new()
{
    Name = "contract-dotnet", Task = "text", ValidationFraction = 0, Overwrite = true,
    Examples = [new() { Label = "positive", Text = "I love it" }, new() { Label = "negative", Text = "I hate it" }, new() { Label = "positive", Text = "génial" }, new() { Label = "negative", Text = "nul" }],
});
Check("POST /v1/heads", head?.Name == "contract-dotnet", head?.Name);
Check("GET /v1/heads", (await client.V1.Heads.GetAsync())?.Count > 0, null);
Check("GET /v1/heads/{name}", (await client.V1.Heads["contract-dotnet"].GetAsync())?.Task == "text", null);
var classified = await client.V1.Classify.Text.PostAsync(new() { Head = "contract-dotnet", Text = "Das ist wunderbar", TopK = 1 });
Check("POST /v1/classify/text", classified?.Labels?.Count == 1, classified?.Labels?.Count);
Check("PUT /v1/collections/{name}", (await client.V1.Collections["contract"].PutAsync())?.Name == "contract", null);
var added = await client.V1.Collections["contract"].Items.PostAsync(new()
{
    Upsert = true,
    Items = [new() { Id = "dir/a", Text = "a red circle" }, new() { Id = "b", Image = new() { Data = scene } }],
});
Check("POST /v1/collections/{name}/items", added?.Count == 2, added?.Count);
Check("GET /v1/collections", (await client.V1.Collections.GetAsync())?.Any(c => c.Name == "contract") == true, null);
Check("GET /v1/collections/{name}", (await client.V1.Collections["contract"].GetAsync())?.Count == 2, null);
Check("GET /v1/collections/{name}/items", (await client.V1.Collections["contract"].Items.GetAsync(c => c.QueryParameters.Limit = 10))?.Items?.Count == 2, null);
var item = await client.V1.Collections["contract"].Items["dir/a"].GetAsync(c => c.QueryParameters.Embedding = true);
Check("GET /v1/collections/{name}/items/{id}", item?.Id == "dir/a" && item.Embedding?.Count > 0, item?.Id);
await using (var image = await client.V1.Collections["contract"].Images["b"].GetAsync())
{
    var bytes = new MemoryStream();
    if (image is not null) await image.CopyToAsync(bytes);
    Check("GET /v1/collections/{name}/images/{id}", bytes.Length > 8 && bytes.ToArray()[1..4].SequenceEqual("PNG"u8.ToArray()), bytes.Length);
}
var found = await client.V1.Collections["contract"].Search.PostAsync(new() { Text = "círculo rojo", TopK = 2, MinScore = -1 });
Check("POST /v1/collections/{name}/search", found?.Results?.FirstOrDefault()?.Id == "dir/a", found?.Results?.Count);
Check("GET /v1/quotas", (await client.V1.Quotas.GetAsync())?.Collections?.Used >= 1, null);
await client.V1.Collections["contract"].Items["dir/a"].DeleteAsync();
calls.Add("DELETE /v1/collections/{name}/items/{id}");
await client.V1.Heads["contract-dotnet"].DeleteAsync();
calls.Add("DELETE /v1/heads/{name}");
await client.V1.Collections["contract"].DeleteAsync();
calls.Add("DELETE /v1/collections/{name}");
try
{
    await client.V1.Vqa.PostAsync(new() { Image = new() { Data = scene }, Question = "q", TopK = 0 });
    throw new InvalidOperationException("top_k 0 was accepted");
}
catch (ProblemDetails problem)
{
    Check("a problem, typed", problem.Status == 400 && problem.Code == "bad_top_k" && problem.TraceId is { Length: > 0 }, problem.Detail);
}
Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { calls }));
