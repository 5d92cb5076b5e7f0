using VqaApi.Api.Hosting;

namespace VqaApi.Api.Inputs;

public static class TextInputs
{
    /// <summary>Checks count and length limits; empty texts are refused (there is nothing to draw).</summary>
    public static void Validate(IReadOnlyList<string> texts, LimitsOptions limits, string field = "texts")
    {
        if (texts.Count > limits.MaxTextsPerRequest)
            throw ApiProblem.BadRequest($"{texts.Count} texts sent; at most {limits.MaxTextsPerRequest} per request (Limits:MaxTextsPerRequest)", "too_many_texts");
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            if (text is null) throw ApiProblem.BadRequest($"{field}[{i}] is null; send a string", "null_text");
            if (text.Length == 0) throw ApiProblem.BadRequest($"{field}[{i}] is empty; send at least one character", "empty_text");
            if (text.Length > limits.MaxCharactersPerText)
                throw ApiProblem.TooLarge($"{field}[{i}] has {text.Length:N0} characters; the limit is {limits.MaxCharactersPerText:N0} (Limits:MaxCharactersPerText)", "text_too_long");
        }
    }
}
