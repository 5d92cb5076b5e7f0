using System.IO.Hashing;
using System.Text;

namespace VqaApi.Generation;

/// <summary>
/// What an example says, independent of language and phrasing: equal keys mean the same claim (captions compared as
/// multisets of groups, relations written one way round). The stream carries a 64-bit hash of it in every record
/// (docs/generator-format.md), so a trainer can tell two records of the same content apart from true negatives, and
/// the eval suite counts an equivalent item as a correct retrieval.
/// </summary>
public static class ContentKey
{
    public static string Of(Fact fact) => fact switch
    {
        CountFact c => $"{Of(c.What)}={c.Count}",
        RelationFact { Relation: Relation.RightOf } r => Of(new RelationFact(r.B, Relation.LeftOf, r.A)),
        RelationFact { Relation: Relation.Below } r => Of(new RelationFact(r.B, Relation.Above, r.A)),
        RelationFact r => $"{Of(r.A)} {r.Relation} {Of(r.B)}",
        SceneCaption s => string.Join(", ", s.Groups.Where(g => g.Count > 0).Select(Of).Order(StringComparer.Ordinal))
                          + (s.Relation is { } rel ? "; " + Of(rel) : ""),
        _ => throw new ArgumentException($"unknown fact {fact.GetType().Name}"),
    };

    public static string Of(ObjectQuery q) => $"{q.Shape}/{q.Color}/{q.Emoji}";

    /// <summary>
    /// The content a scene's caption describes, whatever its style: the groups without the optional relation. A
    /// caption that adds a relation is more specific, but the image of any scene with these groups is never a wrong
    /// match for it in the sense a contrastive negative needs, so both share this key.
    /// </summary>
    public static string OfScene(Scene scene) => Of(WorldSampler.CaptionOf(scene, new Random(0), withRelation: false));

    public static string Of(Question q) =>
        $"{q.Type}: {Of(q.Subject)}{(q.Relation is { } r ? $" {r} {Of(q.Other!)}" : "")} -> {q.AnswerId}";

    /// <summary>What a question asks, without its answer: two wordings of one question share it whatever the scene
    /// ("is A left of B" and "is B right of A" too).</summary>
    public static string OfAsked(Question q) =>
        q.Relation is { } r && q.Other is { } b ? $"{q.Type}: {Of(new RelationFact(q.Subject, r, b))}" : $"{q.Type}: {Of(q.Subject)}";

    /// <summary>XxHash64 of the key's UTF-8 bytes, never 0 (0 in a record means "no key").</summary>
    public static ulong Hash(string key)
    {
        ulong h = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
        return h == 0 ? 1 : h;
    }
}
