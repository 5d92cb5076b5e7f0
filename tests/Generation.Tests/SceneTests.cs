using System.Security.Cryptography;

namespace VqaApi.Generation.Tests;

public class SceneTests
{
    private static readonly EmojiCatalog Emoji = new(EmojiCatalog.Default.Items.Take(120).ToList());
    private static readonly ScenePainter Painter = new(Emoji);

    private static Scene Clean(Scene s) => s with { Blur = 0, NoiseAmplitude = 0 };

    [Fact]
    public void Same_seed_gives_the_same_scene_and_pixels()
    {
        var world = new WorldSampler(224, Emoji.Items.Count);
        for (int i = 0; i < 20; i++)
        {
            var a = world.RandomScene(new Random(i));
            var b = world.RandomScene(new Random(i));
            Assert.Equal(a.Objects, b.Objects);
            var pa = new byte[224 * 224 * 3];
            var pb = new byte[224 * 224 * 3];
            Painter.Paint(a, pa);
            Painter.Paint(b, pb);
            Assert.Equal(SHA256.HashData(pa), SHA256.HashData(pb));
        }
    }

    /// <summary>
    /// Reads every shape back from the pixels: at the centre of each shape that no later object covers, the pixel
    /// has the shape's palette colour, so per-colour counts from the pixels equal the ground truth.
    /// </summary>
    [Fact]
    public void Colours_and_counts_agree_with_the_pixels()
    {
        var world = new WorldSampler(224, Emoji.Items.Count);
        int checkedObjects = 0;
        for (int i = 0; i < 200; i++)
        {
            var scene = Clean(world.RandomScene(new Random(1000 + i)));
            var rgb = new byte[224 * 224 * 3];
            Painter.Paint(scene, rgb);
            var seen = new Dictionary<ObjectColor, int>();
            var expected = new Dictionary<ObjectColor, int>();
            for (int k = 0; k < scene.Objects.Count; k++)
            {
                var o = scene.Objects[k];
                if (o.IsEmoji) continue;
                bool covered = scene.Objects.Skip(k + 1).Any(p => MathF.Sqrt((p.X - o.X) * (p.X - o.X) + (p.Y - o.Y) * (p.Y - o.Y)) < p.Radius * 1.05f + 2);
                if (covered) continue;
                expected[o.Color!.Value] = expected.GetValueOrDefault(o.Color.Value) + 1;
                int at = ((int)MathF.Round(o.Y) * 224 + (int)MathF.Round(o.X)) * 3;
                var nearest = Enum.GetValues<ObjectColor>().MinBy(c =>
                {
                    var p = ScenePainter.ColorOf(c);
                    return Math.Abs(p.Red - rgb[at]) + Math.Abs(p.Green - rgb[at + 1]) + Math.Abs(p.Blue - rgb[at + 2]);
                });
                var want = ScenePainter.ColorOf(o.Color.Value);
                Assert.True(Math.Abs(want.Red - rgb[at]) + Math.Abs(want.Green - rgb[at + 1]) + Math.Abs(want.Blue - rgb[at + 2]) < 30,
                    $"scene {i}: {o.Color} {o.Shape} at ({o.X:F0},{o.Y:F0}) reads as ({rgb[at]},{rgb[at + 1]},{rgb[at + 2]})");
                seen[nearest] = seen.GetValueOrDefault(nearest) + 1;
                checkedObjects++;
            }
            Assert.Equal(expected.OrderBy(p => p.Key), seen.OrderBy(p => p.Key));
        }
        Assert.True(checkedObjects > 300, $"only {checkedObjects} objects were checkable");
    }

    [Theory]
    [InlineData(0, 112.3f, 80.7f, 13.1f)]
    [InlineData(57, 40f, 150.5f, 23.9f)]
    [InlineData(119, 190.6f, 30.2f, 18f)]
    public void Emoji_ink_is_centred_on_the_object_and_spans_about_its_diameter(int emoji, float x, float y, float r)
    {
        var o = new SceneObject(null, null, emoji, ObjectSize.Large, x, y, r);
        var scene = new Scene(224, BackgroundKind.Flat, [0xFFFFFFFFu, 0xFFFFFFFFu], 0, 0, 0f, [o]);
        var rgb = new byte[224 * 224 * 3];
        Painter.Paint(scene, rgb);
        int minX = 224, maxX = -1, minY = 224, maxY = -1;
        for (int py = 0; py < 224; py++)
            for (int px = 0; px < 224; px++)
            {
                int i = (py * 224 + px) * 3;
                if (rgb[i] + rgb[i + 1] + rgb[i + 2] > 3 * 240) continue; // background and faint edges
                (minX, maxX, minY, maxY) = (Math.Min(minX, px), Math.Max(maxX, px), Math.Min(minY, py), Math.Max(maxY, py));
            }
        Assert.True(maxX >= 0, "no emoji ink drawn");
        Assert.InRange((minX + maxX + 1) / 2f, x - 2.5f, x + 2.5f);
        Assert.InRange((minY + maxY + 1) / 2f, y - 2.5f, y + 2.5f);
        Assert.InRange(Math.Max(maxX - minX, maxY - minY) + 1, 1.2f * r, 2.4f * r);
    }

    [Fact]
    public void Scenes_hold_one_to_eight_objects_inside_the_canvas_and_never_a_held_out_combination()
    {
        var world = new WorldSampler(224, Emoji.Items.Count);
        var counts = new HashSet<int>();
        for (int i = 0; i < 500; i++)
        {
            var scene = world.RandomScene(new Random(i));
            counts.Add(scene.Objects.Count);
            Assert.InRange(scene.Objects.Count, 1, 8);
            foreach (var o in scene.Objects)
            {
                Assert.InRange(o.X - o.Radius, 0, 224);
                Assert.InRange(o.X + o.Radius, 0, 224);
                Assert.DoesNotContain(SceneSampler.ObjectKindOf(o), WorldSampler.NovelCombinations);
            }
        }
        Assert.Equal(8, counts.Count);
        for (int i = 0; i < 100; i++)
            Assert.Contains(world.RandomScene(new Random(i), novel: true).Objects, o => WorldSampler.NovelCombinations.Contains(SceneSampler.ObjectKindOf(o)));
    }

    [Fact]
    public void Vqa_answers_are_true_of_the_scene_and_balanced()
    {
        var world = new WorldSampler(224, Emoji.Items.Count);
        var answers = new Dictionary<string, int>();
        var types = new Dictionary<QuestionType, int>();
        for (int i = 0; i < 4000; i++)
        {
            var item = world.RandomVqa(new Random(i));
            var q = item.Question;
            var objs = item.Scene.Objects;
            string truth = q.Type switch
            {
                QuestionType.Count => Answers.Count(objs.Count(q.Subject.Matches)),
                QuestionType.Color => Answers.Color(objs.Single(q.Subject.Matches).Color!.Value),
                QuestionType.Shape => Answers.Shape(objs.Single(q.Subject.Matches).Shape!.Value),
                QuestionType.Exists => objs.Any(q.Subject.Matches) ? Answers.Yes : Answers.No,
                _ => Scene.Relations(objs.Single(q.Subject.Matches), objs.Single(q.Other!.Matches)).Contains(q.Relation!.Value) ? Answers.Yes : Answers.No,
            };
            Assert.Equal(truth, q.AnswerId);
            Assert.Equal(Answers.All[item.AnswerClass], q.AnswerId);
            answers[q.AnswerId] = answers.GetValueOrDefault(q.AnswerId) + 1;
            types[q.Type] = types.GetValueOrDefault(q.Type) + 1;
        }
        // Within each question type, no answer is more than twice as frequent as another.
        foreach (var group in answers.GroupBy(a => a.Key.Split('_')[0] is "yes" or "no" ? "yn" : a.Key.Split('_')[0]))
            Assert.True(group.Max(a => a.Value) < 2 * group.Min(a => a.Value), $"{group.Key}: {string.Join(", ", group.Select(a => $"{a.Key}={a.Value}"))}");
        Assert.Equal(5, types.Count);
    }

    [Fact]
    public void Pair_labels_follow_from_the_caption()
    {
        var world = new WorldSampler(224, Emoji.Items.Count);
        var labels = new Dictionary<PairLabel, int>();
        for (int i = 0; i < 2000; i++)
        {
            var item = world.RandomPair(new Random(i));
            labels[item.Label] = labels.GetValueOrDefault(item.Label) + 1;
            switch (item.Hypothesis)
            {
                case CountFact c:
                    int truth = item.Scene.Objects.Count(c.What.Matches);
                    Assert.Equal(item.Label == PairLabel.Entailment, c.Count == truth);
                    Assert.NotEqual(PairLabel.Neutral, item.Label);
                    break;
                case RelationFact r:
                    var stated = item.Premise.Relation;
                    if (item.Label == PairLabel.Neutral) Assert.Null(stated);
                    else
                    {
                        Assert.NotNull(stated);
                        var a = item.Scene.Objects.Single(r.A.Matches);
                        var b = item.Scene.Objects.Single(r.B.Matches);
                        Assert.Equal(item.Label == PairLabel.Entailment, Scene.Relations(a, b).Contains(r.Relation));
                    }
                    break;
            }
        }
        Assert.All(labels.Values, v => Assert.InRange(v, 550, 800));
    }

    [Fact]
    public void Example_seeds_of_different_splits_never_coincide()
    {
        var train = Enumerable.Range(0, 100_000).Select(i => ExampleGenerator.ExampleSeed(Split.Train, 7, i)).ToHashSet();
        var held = Enumerable.Range(0, 100_000).Select(i => ExampleGenerator.ExampleSeed(Split.HeldOut, 7, i)).ToList();
        Assert.DoesNotContain(held, train.Contains);
        Assert.All(held, s => Assert.True(s >= 0));
        Assert.True(train.Count > 99_990);
    }
}
