using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PuppeteerSharp;
using PuppeteerSharp.Input;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

/// <summary>The service (its own process, on a copy of the bundled model) and Debian's Chromium, shared by the page's tests.</summary>
public sealed class WebPageFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    /// <summary>Small enough that a test can upload a picture over it (the default is 20 MB).</summary>
    public const int MaxImageBytes = 512 * 1024;

    private readonly string _folder = Directory.CreateTempSubdirectory("vqaapi-webpage-").FullName;
    public ServiceProcess Service { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string Repo { get; } = BundledModelFactory.FindRepo();
    /// <summary>Screenshots, kept after the run (artifacts/ is ignored by git; CI may collect it).</summary>
    public string Artifacts { get; } = Path.Combine(BundledModelFactory.FindRepo(), "artifacts", "web-page");
    public string Scene => Path.Combine(Repo, "docs", "tour", "scene.png");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"the page is tested in Debian's Chromium: apt-get install chromium (as .ci/run does); {Chromium} is missing");
        Directory.CreateDirectory(Artifacts);
        var model = Path.Combine(_folder, "model");
        BundledModelFactory.CopyBundledModel(model);
        Service = await ServiceProcess.StartAsync("localhost", $"--Model:Path={model}", $"--Collections:Root={Path.Combine(_folder, "collections")}",
            $"--Limits:MaxImageBytes={MaxImageBytes}", "--Clients:MaxConcurrentRequests=64");
        Browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-US"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        if (Service is not null) await Service.DisposeAsync();
        try { Directory.Delete(_folder, true); } catch (IOException) { }
    }
}

/// <summary>
/// The web page at / in a real browser against the real service: ask about the tour scene in English, Arabic and Japanese
/// and see the API's own answer and the canvas the encoder read; errors (413 from the service, and a 429 with Retry-After)
/// become readable messages that keep what was typed; zero-shot and sentence-pair classification; a collection built and
/// searched from the page; model facts; accessibility (axe-core, keyboard, phone width). Screenshots go to artifacts/web-page.
/// </summary>
public sealed class WebPageTests(WebPageFixture fixture, ITestOutputHelper output) : IClassFixture<WebPageFixture>
{
    private static readonly WaitForFunctionOptions Patiently = new() { Timeout = 60_000, PollingInterval = 100 };

    /// <summary>A new tab on the page, its console errors and uncaught exceptions collected.</summary>
    private async Task<(IPage Page, List<string> Errors)> OpenAsync(int width = 1280, int height = 900, string hash = "")
    {
        var page = await fixture.Browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add($"page error: {e.Message}");
        page.Console += (_, e) =>
        {
            // A refused request is logged by Chromium itself ("Failed to load resource: ... 413"); the page shows it.
            if (e.Message.Type == ConsoleType.Error && !e.Message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                errors.Add($"console: {e.Message.Text}");
        };
        await page.SetViewportAsync(new ViewPortOptions { Width = width, Height = height });
        await page.GoToAsync(fixture.Service.BaseUrl + "/" + hash, WaitUntilNavigation.Networkidle0);
        await page.WaitForFunctionAsync("() => document.querySelector('#model-line').textContent.includes('clippo')", Patiently);
        return (page, errors);
    }

    private Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(Path.Combine(fixture.Artifacts, name), new ScreenshotOptions { FullPage = true });

    private static Task SetValueAsync(IPage page, string selector, string value) =>
        page.EvaluateFunctionAsync("(s, v) => { const e = document.querySelector(s); e.value = v; e.dispatchEvent(new Event('input')); }", selector, value);

    /// <summary>Choose a file in a picker and wait until its preview has loaded (or failed to), so the layout is still.</summary>
    private static async Task UploadAsync(IPage page, string picker, string file)
    {
        await (await page.QuerySelectorAsync($"{picker} [data-file]")).UploadFileAsync(file);
        await page.WaitForFunctionAsync("(p, name) => { const img = document.querySelector(p + ' [data-preview]'); " +
            "return !img.hidden && img.complete && document.querySelector(p + ' [data-file-name]').textContent.startsWith(name); }",
            Patiently, picker, Path.GetFileName(file));
    }

    /// <summary>Pick a sample scene in a picker and wait until its preview has loaded.</summary>
    private static async Task PickSampleAsync(IPage page, string picker, string sample)
    {
        await page.ClickAsync($"{picker} [data-sample='samples/{sample}']");
        await page.WaitForFunctionAsync("(p, name) => { const img = document.querySelector(p + ' [data-preview]'); " +
            "return !img.hidden && img.complete && document.querySelector(p + ' [data-file-name]').textContent.startsWith(name); }",
            Patiently, picker, sample);
    }

    private async Task<JsonElement> AskApiAsync(string question)
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(await File.ReadAllBytesAsync(fixture.Scene)), "image", "scene.png" },
            { new StringContent(question), "question" },
            { new StringContent("5"), "top_k" },
        };
        var response = await fixture.Service.Http.PostAsync("/v1/vqa", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Asking_in_English_Arabic_and_Japanese_shows_the_APIs_answer_and_the_canvas_the_model_read()
    {
        var served = (await fixture.Service.Http.GetFromJsonAsync<JsonElement>("/v1/models"))[0];
        int canvas = served.GetProperty("architecture").GetProperty("imageSize").GetInt32();
        var (page, errors) = await OpenAsync();
        await using var _ = page;
        await UploadAsync(page, "#panel-ask", fixture.Scene);

        foreach (var (language, question) in new[] { ("en", "How many shapes are there?"), ("ar", "ما لون الدائرة؟"), ("ja", "青い図形は何個ありますか？") })
        {
            await SetValueAsync(page, "#ask-question", "");
            await page.TypeAsync("#ask-question", question);
            await page.ClickAsync("#ask-form button[type=submit]");
            await page.WaitForFunctionAsync("q => document.querySelector('#ask-output .question')?.textContent === q && document.querySelector('#ask-output figure img')?.complete",
                Patiently, question);
            var shown = await page.EvaluateFunctionAsync<JsonElement>(@"() => ({
                labels: [...document.querySelectorAll('#ask-output .answers li')].map(li => li.dataset.label),
                name: document.querySelector('#ask-output .answers li .name').textContent,
                method: document.querySelector('#ask-output .result').dataset.method,
                canvasWidth: document.querySelector('#ask-output figure img').naturalWidth,
                layout: document.querySelector('#ask-output figure').dataset.layout,
                report: document.querySelector('#ask-output .report')?.textContent ?? '',
                direction: getComputedStyle(document.querySelector('#ask-output .question')).direction,
                inputDirection: getComputedStyle(document.querySelector('#ask-question')).direction })");
            var api = await AskApiAsync(question);
            var apiLabels = api.GetProperty("answers").EnumerateArray().Select(a => a.GetProperty("label").GetString()).ToList();
            var top = api.GetProperty("answers")[0];
            output.WriteLine($"{language}: {question} -> {shown.GetProperty("name")} ({string.Join(", ", apiLabels)})");
            Assert.Equal(apiLabels, shown.GetProperty("labels").EnumerateArray().Select(l => l.GetString()).ToList());
            Assert.Equal(top.GetProperty("names").GetProperty(language).GetString(), shown.GetProperty("name").GetString());
            Assert.Equal("head", shown.GetProperty("method").GetString());
            Assert.Equal(canvas, shown.GetProperty("canvasWidth").GetInt32()); // the served model's canvas
            Assert.Equal("vqa", shown.GetProperty("layout").GetString());
            Assert.Contains("font size", shown.GetProperty("report").GetString());
            Assert.Contains("fonts", shown.GetProperty("report").GetString());
            var rtl = language == "ar" ? "rtl" : "ltr";
            Assert.Equal(rtl, shown.GetProperty("direction").GetString());
            Assert.Equal(rtl, shown.GetProperty("inputDirection").GetString());
            if (language != "en") await ScreenshotAsync(page, $"ask-{language}.png");
        }

        // A picture dropped on the drop zone is taken as chosen (a drop event carrying a file, as a browser makes it).
        await page.EvaluateExpressionAsync(@"(async () => {
            const blob = await (await fetch('samples/two-circles.png')).blob();
            const data = new DataTransfer();
            data.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
            const zone = document.querySelector('#panel-ask [data-drop]');
            zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        })()");
        await page.WaitForFunctionAsync("() => document.querySelector('#panel-ask [data-file-name]').textContent.startsWith('dropped.png') && document.querySelector('#panel-ask [data-preview]').complete", Patiently);
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.querySelector('#panel-ask [data-drop]').classList.contains('over')"));

        // A picture pasted on the page goes to the open section's picker.
        await page.EvaluateExpressionAsync(@"(async () => {
            const blob = await (await fetch('samples/bull-star-cross.png')).blob();
            const data = new DataTransfer();
            data.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
            document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        })()");
        await page.WaitForFunctionAsync("() => document.querySelector('#panel-ask [data-file-name]').textContent.startsWith('pasted.png')", Patiently);

        // Zero-shot VQA with candidate answers: the page's answers are the API's.
        await page.ClickAsync("input[name=ask-method][value=zero-shot]");
        await SetValueAsync(page, "#ask-candidates", "one\ntwo\nthree");
        await SetValueAsync(page, "#ask-question", "How many shapes are there?");
        await page.ClickAsync("#ask-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#ask-output .result')?.dataset.method === 'zero-shot' && document.querySelectorAll('#ask-output figure').length === 2", Patiently);
        Assert.Equal(3, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#ask-output .answers li').length"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Errors_from_the_API_are_readable_and_keep_what_was_typed()
    {
        var (page, errors) = await OpenAsync();
        await using var _ = page;
        const string question = "Welche Farbe hat der Kreis?";
        await page.TypeAsync("#ask-question", question);

        // Nothing chosen yet: the page says so without calling the API.
        await page.ClickAsync("#ask-form button[type=submit]");
        await page.WaitForFunctionAsync("() => !document.querySelector('#ask-form [data-error]').hidden", Patiently);
        Assert.Contains("Choose a picture", await page.EvaluateExpressionAsync<string>("document.querySelector('#ask-form [data-error]').textContent"));

        // An upload over Limits:MaxImageBytes: the service's 413, in words.
        var big = Path.Combine(fixture.Artifacts, "oversized.png");
        var scene = await File.ReadAllBytesAsync(fixture.Scene);
        await File.WriteAllBytesAsync(big, [.. scene, .. new byte[WebPageFixture.MaxImageBytes]]);
        await UploadAsync(page, "#panel-ask", big);
        await page.ClickAsync("#ask-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#ask-form [data-error]').dataset.status === '413'", Patiently);
        var message = await page.EvaluateExpressionAsync<string>("document.querySelector('#ask-form [data-error]').textContent");
        output.WriteLine(message);
        Assert.Contains("Too large", message);
        Assert.Contains("Choose a smaller file", message);
        Assert.Equal(question, await page.EvaluateExpressionAsync<string>("document.querySelector('#ask-question').value"));
        await ScreenshotAsync(page, "error-413.png");
        File.Delete(big);

        // A file that is no picture: the service's refusal, in words.
        var text = Path.Combine(fixture.Artifacts, "not-a-picture.png");
        await File.WriteAllTextAsync(text, "this is text, not a picture");
        await UploadAsync(page, "#panel-ask", text);
        await page.ClickAsync("#ask-form button[type=submit]");
        await page.WaitForFunctionAsync("() => ['415', '422'].includes(document.querySelector('#ask-form [data-error]').dataset.status)", Patiently);
        Assert.Contains("JPEG, PNG", await page.EvaluateExpressionAsync<string>("document.querySelector('#ask-form [data-error]').textContent"));
        File.Delete(text);

        // 429 with Retry-After (made by the browser here: the service's limiter is per client and hard to trip on time).
        await UploadAsync(page, "#panel-ask", fixture.Scene);
        await page.SetRequestInterceptionAsync(true);
        page.Request += async (_, e) =>
        {
            if (e.Request.Url.EndsWith("/v1/vqa", StringComparison.Ordinal))
                await e.Request.RespondAsync(new ResponseData
                {
                    Status = HttpStatusCode.TooManyRequests, ContentType = "application/problem+json",
                    Headers = new Dictionary<string, object> { ["Retry-After"] = "7" },
                    Body = "{\"status\": 429, \"title\": \"Too many requests\", \"detail\": \"this client has 8 requests in flight\", \"code\": \"rate_limited\"}",
                });
            else await e.Request.ContinueAsync();
        };
        await page.ClickAsync("#ask-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#ask-form [data-error]').dataset.status === '429'", Patiently);
        message = await page.EvaluateExpressionAsync<string>("document.querySelector('#ask-form [data-error]').textContent");
        output.WriteLine(message);
        Assert.Contains("Try again in 7 s", message);
        Assert.Equal(question, await page.EvaluateExpressionAsync<string>("document.querySelector('#ask-question').value"));
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.querySelector('#ask-form button[type=submit]').disabled"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Zero_shot_labels_and_a_sentence_pair_head_show_the_APIs_answers()
    {
        var (page, errors) = await OpenAsync(hash: "#classify");
        await using var _ = page;
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.querySelector('#panel-classify').hidden"));
        await UploadAsync(page, "#panel-classify", fixture.Scene);
        await SetValueAsync(page, "#zs-labels", "circle\nKreis\nمربع\n三角形");
        await page.ClickAsync("#zs-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#zs-output figure img').length === 2", Patiently);
        var shown = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#zs-output .answers li')].map(li => li.dataset.label)");
        using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(fixture.Scene)), "image", "scene.png" } };
        foreach (var label in new[] { "circle", "Kreis", "مربع", "三角形" }) form.Add(new StringContent(label), "candidate_labels");
        var api = await (await fixture.Service.Http.PostAsync("/v1/classify/zero-shot", form)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(api.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("label").GetString()!).ToArray(), shown);

        // The bundled entailment head (gen-pair), premise and hypothesis as the page sends them.
        await page.SelectAsync("#pair-head", "gen-pair");
        await SetValueAsync(page, "#pair-first", "Three red circles.");
        await SetValueAsync(page, "#pair-second", "Es gibt keine Kreise.");
        await page.ClickAsync("#pair-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#pair-output figure')?.dataset.layout === 'pair'", Patiently);
        var pairShown = await page.EvaluateExpressionAsync<string>("document.querySelector('#pair-output .answers li').dataset.label");
        var pairApi = await (await fixture.Service.Http.PostAsJsonAsync("/v1/classify/text",
            new { head = "gen-pair", pair = new { premise = "Three red circles.", hypothesis = "Es gibt keine Kreise." } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(pairApi.GetProperty("labels")[0].GetProperty("label").GetString(), pairShown);
        await ScreenshotAsync(page, "classify.png");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_collection_built_on_the_page_is_searched_by_text_and_by_picture_with_thumbnails()
    {
        var (page, errors) = await OpenAsync(hash: "#search");
        await using var _ = page;
        await page.ClickAsync("#add-box summary");
        await page.TypeAsync("#create-name", "web-scenes");
        await page.ClickAsync("#create-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#search-collection').value === 'web-scenes'", Patiently);

        var items = new[] { ("red", "a red circle", "{\"lang\": \"en\"}"), ("blau", "ein blauer Stern", "{\"lang\": \"de\"}"), ("vert", "un triangle vert", "") };
        foreach (var (id, text, metadata) in items)
        {
            await SetValueAsync(page, "#add-id", id);
            await SetValueAsync(page, "#add-text", text);
            await SetValueAsync(page, "#add-metadata", metadata);
            await page.ClickAsync("#add-form button[type=submit]");
            await page.WaitForFunctionAsync("id => document.querySelector('#add-form [data-ok]').textContent.includes(id)", Patiently, id);
        }
        await page.ClickAsync("input[name=add-kind][value=image]");
        await SetValueAsync(page, "#add-id", "scene");
        await PickSampleAsync(page, "#panel-search [data-picker=add]", "tour-scene.png");
        await page.ClickAsync("#add-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#add-form [data-ok]').textContent.includes('4 items')", Patiently);

        await page.TypeAsync("#search-text", "roter Kreis");
        await page.ClickAsync("#search-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#search-output .results li').length === 4 && document.querySelector('#search-output img.thumb')?.naturalWidth > 0", Patiently);
        var shown = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#search-output .results li')].map(li => li.dataset.id)");
        var api = await (await fixture.Service.Http.PostAsJsonAsync("/v1/collections/web-scenes/search", new { text = "roter Kreis", top_k = 5 })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(api.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToArray(), shown);
        Assert.Contains("\"lang\":\"en\"", await page.EvaluateExpressionAsync<string>("document.querySelector('#search-output li[data-id=red] .meta').textContent"));
        await ScreenshotAsync(page, "search.png");

        // By picture: the stored image item is found first, shown with its thumbnail.
        await page.ClickAsync("input[name=search-kind][value=image]");
        await PickSampleAsync(page, "#panel-search [data-picker=search]", "tour-scene.png");
        await page.ClickAsync("#search-form button[type=submit]");
        await page.WaitForFunctionAsync("() => document.querySelector('#search-output .results li')?.dataset.id === 'scene'", Patiently);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_model_section_says_what_is_served_and_what_it_knows()
    {
        var (page, errors) = await OpenAsync(hash: "#model");
        await using var _ = page;
        await page.WaitForFunctionAsync("() => document.querySelector('#model-card h3') !== null && document.querySelector('#model-heads table') !== null", Patiently);
        var facts = await page.EvaluateExpressionAsync<string>("document.querySelector('#model-facts').textContent");
        var model = (await fixture.Service.Http.GetFromJsonAsync<JsonElement>("/v1/models"))[0];
        Assert.Contains(model.GetProperty("id").GetString()!, facts);
        Assert.Contains(model.GetProperty("executionProvider").GetString()!, facts);
        Assert.Contains(model.GetProperty("renderProfile").GetProperty("shaped").GetProperty("name").GetString()!, facts);
        Assert.Contains("toy world", facts);
        Assert.Contains(model.GetProperty("id").GetString()!, await page.EvaluateExpressionAsync<string>("document.querySelector('#model-card h3').textContent"));
        Assert.Contains("gen-vqa", await page.EvaluateExpressionAsync<string>("document.querySelector('#model-heads').textContent"));
        // The developer links lead somewhere.
        foreach (var link in new[] { "#link-swagger", "#link-openapi" })
        {
            var href = await page.EvaluateFunctionAsync<string>("s => document.querySelector(s).href", link);
            Assert.Equal(HttpStatusCode.OK, (await fixture.Service.Http.GetAsync(href)).StatusCode);
        }
        await ScreenshotAsync(page, "model.png");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_page_is_accessible_by_keyboard_at_phone_width_and_to_axe()
    {
        var (page, errors) = await OpenAsync(width: 390, height: 844);
        await using var _ = page;
        // Keyboard: the tabs follow the arrow keys (WAI-ARIA tabs pattern).
        await page.FocusAsync("#tab-ask");
        await page.Keyboard.PressAsync(Key.ArrowRight);
        Assert.Equal("tab-classify", await page.EvaluateExpressionAsync<string>("document.activeElement.id"));
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.querySelector('#panel-classify').hidden"));
        await page.Keyboard.PressAsync(Key.Home);
        Assert.Equal("true", await page.EvaluateExpressionAsync<string>("document.querySelector('#tab-ask').getAttribute('aria-selected')"));
        // A sample picked and the question asked from the keyboard alone.
        await page.FocusAsync("#panel-ask [data-sample='samples/tour-scene.png']");
        await page.Keyboard.PressAsync(Key.Enter);
        await page.WaitForFunctionAsync("() => !document.querySelector('#panel-ask [data-preview]').hidden", Patiently);
        await page.FocusAsync("#ask-question");
        await page.Keyboard.TypeAsync("How many shapes are there?");
        await page.FocusAsync("#ask-form button[type=submit]");
        await page.Keyboard.PressAsync(Key.Enter);
        await page.WaitForFunctionAsync("() => document.querySelector('#ask-output figure img')?.complete", Patiently);
        // Phone width: nothing wider than the screen.
        Assert.True(await page.EvaluateExpressionAsync<int>("document.documentElement.scrollWidth") <= 390);
        await ScreenshotAsync(page, "phone-ask.png");

        // axe-core (WCAG 2.1 A and AA rules: names, labels, contrast, roles) on each section.
        var axe = ReadAxe();
        foreach (var tab in new[] { "ask", "classify", "search", "model" })
        {
            await page.ClickAsync($"#tab-{tab}");
            await page.EvaluateExpressionAsync(axe);
            var violations = await page.EvaluateExpressionAsync<JsonElement>(
                "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })" +
                ".then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })))");
            output.WriteLine($"{tab}: {violations}");
            Assert.True(violations.GetArrayLength() == 0, $"{tab}: {violations}");
        }
        Assert.Empty(errors);
    }

    [Fact]
    public async Task When_keys_are_required_the_page_asks_for_one_and_then_works()
    {
        var folder = Directory.CreateTempSubdirectory("vqaapi-webpage-keys-").FullName;
        try
        {
            var keys = Path.Combine(folder, "keys.json");
            var (_, key) = new Security.ApiKeyStore(keys).Create("web page", Security.ApiScopes.Write);
            var model = Path.Combine(folder, "model");
            BundledModelFactory.CopyBundledModel(model);
            await using var service = await ServiceProcess.StartAsync("localhost", $"--Model:Path={model}", "--Auth:Mode=Required", $"--Auth:KeysFile={keys}",
                $"--Collections:Root={Path.Combine(folder, "collections")}");
            await using var page = await fixture.Browser.NewPageAsync();
            var errors = new List<string>();
            page.PageError += (_, e) => errors.Add(e.Message);
            await page.GoToAsync(service.BaseUrl + "/", WaitUntilNavigation.Networkidle0);
            // The page itself needs no key; its first call says what is missing and where to put it.
            await page.WaitForFunctionAsync("() => document.querySelector('#model-line').textContent.includes('needs an API key')", Patiently);
            await page.ClickAsync("#key-box summary");
            await page.TypeAsync("#api-key", key);
            await page.Keyboard.PressAsync(Key.Tab); // "change": the page reloads what it shows, with the key
            await page.WaitForFunctionAsync("() => document.querySelector('#model-line').textContent.includes('clippo')", Patiently);
            await PickSampleAsync(page, "#panel-ask", "two-circles.png");
            await page.TypeAsync("#ask-question", "How many circles are there?");
            await page.ClickAsync("#ask-form button[type=submit]");
            await page.WaitForFunctionAsync("() => document.querySelector('#ask-output figure img')?.complete", Patiently);
            // The key stays in this tab only (sessionStorage) unless the user asks to remember it.
            Assert.Equal(key, await page.EvaluateExpressionAsync<string>("sessionStorage.getItem('vqa-key')"));
            Assert.Null(await page.EvaluateExpressionAsync<string?>("localStorage.getItem('vqa-key')"));
            Assert.Empty(errors);
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task A_model_without_a_VQA_head_is_asked_zero_shot()
    {
        var folder = Directory.CreateTempSubdirectory("vqaapi-webpage-nohead-").FullName;
        try
        {
            // An official-style model: the unifont profile (no VQA layout) and no heads.
            var model = Path.Combine(folder, "model");
            VqaApi.Tasks.Conversion.CheckpointConverter.Convert(VqaApi.Tasks.Checkpoints.RandomCheckpoint.Create(ApiFactory.Architecture, seed: 3), "test.npz", model,
                new VqaApi.Tasks.Conversion.ConvertOptions { Id = "no-head-model", RenderProfile = "unifont" });
            await using var service = await ServiceProcess.StartAsync("localhost", $"--Model:Path={model}", $"--Collections:Root={Path.Combine(folder, "collections")}");
            await using var page = await fixture.Browser.NewPageAsync();
            var errors = new List<string>();
            page.PageError += (_, e) => errors.Add(e.Message);
            await page.GoToAsync(service.BaseUrl + "/", WaitUntilNavigation.Networkidle0);
            await page.WaitForFunctionAsync("() => document.querySelector('input[name=ask-method][value=head]').disabled", Patiently);
            Assert.True(await page.EvaluateExpressionAsync<bool>("document.querySelector('input[name=ask-method][value=zero-shot]').checked"));
            Assert.False(await page.EvaluateExpressionAsync<bool>("document.querySelector('#ask-candidates-box').hidden"));
            await PickSampleAsync(page, "#panel-ask", "two-circles.png");
            await page.TypeAsync("#ask-question", "How many circles?");
            await page.TypeAsync("#ask-candidates", "one\ntwo");
            await page.ClickAsync("#ask-form button[type=submit]");
            await page.WaitForFunctionAsync("() => document.querySelectorAll('#ask-output figure').length === 2", Patiently);
            Assert.Equal(["image", "text"], await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#ask-output figure')].map(f => f.dataset.layout)"));
            Assert.Equal(2, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#ask-output .answers li').length"));
            Assert.Empty(errors);
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    private static string ReadAxe()
    {
        using var stream = typeof(Deque.AxeCore.Commons.AxeResult).Assembly.GetManifestResourceStream("Deque.AxeCore.Commons.Resources.axe.min.js")
                           ?? throw new InvalidOperationException("axe.min.js is not in Deque.AxeCore.Commons");
        return new StreamReader(stream).ReadToEnd();
    }
}
