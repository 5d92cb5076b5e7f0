using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Generation.Tests;

/// <summary>
/// The world options (a curriculum stage's part of the world) and the content keys: every example of a restricted
/// world stays inside it, the full world's draws are unchanged (training/probe-hashes.txt is checked by
/// <see cref="StreamTests"/>), and records that say the same thing carry the same key.
/// </summary>
public class CurriculumTests
{
    private static readonly EmojiCatalog Emoji = new(EmojiCatalog.Default.Items.Take(GeneratorCommands.DefaultSceneEmoji).ToList());

    private static ExampleGenerator Generator(WorldOptions world, int size = 96) =>
        new(new ShapedRenderer(ShapedProfile.ForImageSize(size)), Languages.Create(Emoji), Emoji, null, world);

    private static readonly WorldOptions Small = new WorldOptions
    {
        MinObjects = 1, MaxObjects = 2, EmojiShare = 0,
        Shapes = [ShapeKind.Circle, ShapeKind.Square, ShapeKind.Triangle, ShapeKind.Star],
        Colors = [ObjectColor.Red, ObjectColor.Orange, ObjectColor.Yellow, ObjectColor.Green, ObjectColor.Blue, ObjectColor.Purple],
        Languages = ["en", "de"], CaptionStyles = [0, 1],
        Questions = [QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists],
        PlainScenes = true, ObjectScale = 1.5f,
    }.Validated();

    [Fact]
    public void Every_example_of_a_small_world_stays_inside_it()
    {
        var g = Generator(Small);
        var mix = new ExampleMix(1, 1, 1, 1);
        var kinds = new HashSet<ExampleKind>();
        var types = new HashSet<QuestionType>();
        for (int i = 0; i < 2000; i++)
        {
            var e = g.Sample(Split.Train, 3, i, mix);
            kinds.Add(e.Kind);
            foreach (int l in new[] { e.LanguageA, e.LanguageB }.Where(l => l is >= 0 and < 255)) Assert.Contains(Languages.Codes[l], Small.Languages!);
            if (e.Scene is { } scene)
            {
                foreach (var o in scene.Objects)
                {
                    Assert.False(o.IsEmoji, $"example {i}: an emoji in a world without emoji");
                    Assert.Contains(o.Shape!.Value, Small.Shapes);
                    Assert.Contains(o.Color!.Value, Small.Colors);
                }
                Assert.Equal(BackgroundKind.Flat, scene.Background);
                Assert.Equal(0f, scene.Blur);
                if (e.Kind != ExampleKind.Vqa) Assert.InRange(scene.Objects.Count, Small.MinObjects, Small.MaxObjects);
                else Assert.InRange(scene.Objects.Count, 0, Small.MaxObjects);
            }
            if (e.Kind == ExampleKind.Vqa)
            {
                var q = e.Question!;
                types.Add(q.Type);
                Assert.Contains(q.Type, Small.Questions);
                if (q.Type == QuestionType.Count) Assert.InRange(int.Parse(q.AnswerId["count_".Length..]), 0, Small.MaxObjects);
                if (q.Type == QuestionType.Color) Assert.Contains(Enum.Parse<ObjectColor>(q.AnswerId["color_".Length..], true), Small.Colors);
                if (q.Type == QuestionType.Shape) Assert.Contains(Enum.Parse<ShapeKind>(q.AnswerId["shape_".Length..], true), Small.Shapes);
            }
            if (e.Kind == ExampleKind.Caption) Assert.DoesNotContain(" is left of ", e.TextB!); // no relation style
        }
        Assert.Equal(4, kinds.Count);
        Assert.Equal(Small.Questions.ToHashSet(), types);
    }

    [Fact]
    public void Word_captions_name_one_shape_by_its_colour_or_shape()
    {
        var g = Generator(Small with { CaptionStyles = [WorldOptions.WordStyle], MaxObjects = 2 });
        var words = Languages.Create(Emoji);
        int single = 0;
        for (int i = 0; i < 400; i++)
        {
            var e = g.Sample(Split.Train, 4, i, new ExampleMix(1, 0, 0, 0));
            var lang = words[e.LanguageB];
            if (e.Scene!.Objects.Count == 1)
            {
                single++;
                var o = e.Scene.Objects[0];
                Assert.Contains(e.TextB, new[] { lang.AnswerLabel(Answers.Color(o.Color!.Value)), lang.AnswerLabel(Answers.Shape(o.Shape!.Value)) });
                Assert.Equal(ContentAttributes.OnA, e.Attributes.Flags & (ContentAttributes.OnA | ContentAttributes.OnB));
            }
            else Assert.Contains(' ', e.TextB!); // two objects: a list caption instead
        }
        Assert.InRange(single, 100, 300);
    }

    [Fact]
    public void Larger_objects_are_drawn_larger()
    {
        var plain = new WorldSampler(96, 0, Small with { ObjectScale = 1f });
        var large = new WorldSampler(96, 0, Small);
        double Mean(WorldSampler w) => Enumerable.Range(0, 200).SelectMany(i => w.RandomScene(new Random(i)).Objects).Average(o => o.Radius);
        Assert.InRange(Mean(large) / Mean(plain), 1.35, 1.65);
    }

    [Fact]
    public void Separated_objects_keep_their_distance_and_the_default_lets_them_overlap_a_little()
    {
        static double Closest(WorldSampler w) => Enumerable.Range(0, 400).Select(i => w.RandomScene(new Random(i)).Objects)
            .Where(o => o.Count == 2).Min(o => Math.Sqrt(Math.Pow(o[0].X - o[1].X, 2) + Math.Pow(o[0].Y - o[1].Y, 2)) / (o[0].Radius + o[1].Radius));
        double apart = Closest(new WorldSampler(96, 0, Small with { ObjectScale = 2.2f, Separation = 1.4f }));
        double near = Closest(new WorldSampler(96, 0, Small with { ObjectScale = 2.2f }));
        Assert.True(apart >= 1.4, $"closest pair at {apart:F2} x the summed radii");
        Assert.InRange(near, 0.8, 1.0); // the default: centres 0.8 of the summed radii apart at the least, and some that close
        Assert.Contains("--separation", Assert.Throws<ArgumentException>(() => (Small with { Separation = 5 }).Validated()).Message);
    }

    [Fact]
    public void A_question_type_named_more_than_once_is_asked_that_many_times_as_often()
    {
        var cli = new WorldOptionsCli();
        var command = new RootCommand();
        cli.AddTo(command);
        var world = cli.Read(command.Parse("--objects 1-5 --questions count,color,shape,exists,spatial,spatial,spatial"));
        Assert.Equal(7, world.Questions.Count);
        Assert.Equal(world.Describe(), cli.Read(command.Parse(world.Describe())).Describe()); // the weights survive the round trip
        var sampler = new WorldSampler(96, 0, world);
        var random = new Random(7);
        var types = Enumerable.Range(0, 3500).Select(_ => sampler.RandomVqa(random).Question.Type).ToList();
        double Share(QuestionType t) => types.Count(x => x == t) / (double)types.Count;
        // 3 of 7 spatial, 1 of 7 each of the others; 3,500 draws: the standard error of a share is below 0.009.
        Assert.InRange(Share(QuestionType.Spatial), 3 / 7.0 - 0.04, 3 / 7.0 + 0.04);
        foreach (var t in new[] { QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists })
            Assert.InRange(Share(t), 1 / 7.0 - 0.03, 1 / 7.0 + 0.03);
    }

    [Fact]
    public void Count_questions_by_one_attribute_name_a_shape_or_a_colour_never_both()
    {
        static List<ObjectQuery> Subjects(WorldOptions world) => Enumerable.Range(0, 600)
            .Select(i => new WorldSampler(96, 0, world).RandomVqa(new Random(i)).Question)
            .Where(q => q.Type == QuestionType.Count).Select(q => q.Subject).ToList();
        var single = Subjects(Small with { CountBySingleAttribute = true });
        Assert.True(single.Count > 100);
        Assert.All(single, q => Assert.True(q.Shape is null ^ q.Color is null, $"{q}"));
        Assert.Contains(single, q => q.Shape is not null);
        Assert.Contains(single, q => q.Color is not null);
        Assert.Contains(Subjects(Small), q => q.Shape is not null && q.Color is not null); // the default asks for both too
    }

    [Fact]
    public void Count_all_questions_count_every_object_over_the_worlds_range_and_are_off_by_default()
    {
        static List<VqaItem> Counts(WorldOptions world) => Enumerable.Range(0, 600)
            .Select(i => new WorldSampler(96, 0, world).RandomVqa(new Random(i))).Where(v => v.Question.Type == QuestionType.Count).ToList();
        var all = Counts(Small with { CountAllShare = 1, MinObjects = 1, MaxObjects = 3 });
        Assert.True(all.Count > 100);
        Assert.All(all, v =>
        {
            Assert.Equal(new ObjectQuery(), v.Question.Subject);
            Assert.Equal(Answers.Count(v.Scene.Objects.Count), v.Question.AnswerId);
        });
        Assert.Equal([1, 2, 3], all.Select(v => v.Scene.Objects.Count).Distinct().Order()); // every count of the range, never 0
        var half = Counts(Small with { CountAllShare = 0.5 });
        Assert.Contains(half, v => v.Question.Subject == new ObjectQuery());
        Assert.Contains(half, v => v.Question.Subject != new ObjectQuery());
        Assert.DoesNotContain(Counts(Small), v => v.Question.Subject == new ObjectQuery()); // the default: as before
        Assert.Contains("--count-all", Assert.Throws<ArgumentException>(() => (Small with { CountAllShare = 2 }).Validated()).Message);
    }

    [Fact]
    public void Impossible_worlds_are_refused_with_the_option_named()
    {
        Assert.Contains("--objects", Assert.Throws<ArgumentException>(() => (Small with { MinObjects = 3, MaxObjects = 2 }).Validated()).Message);
        Assert.Contains("--shapes", Assert.Throws<ArgumentException>(() => (Small with { Shapes = [ShapeKind.Star] }).Validated()).Message);
        Assert.Contains("spatial", Assert.Throws<ArgumentException>(() => (Small with { MaxObjects = 1, Questions = [QuestionType.Spatial] }).Validated()).Message);
        Assert.Contains("--languages", Assert.Throws<ArgumentException>(() => (Small with { Languages = ["xx"] }).Validated()).Message);
    }

    [Fact]
    public void Command_line_flags_give_the_options_and_describe_them_back()
    {
        var cli = new WorldOptionsCli();
        var command = new RootCommand();
        cli.AddTo(command);
        var flags = "--objects 1-2 --emoji-share 0 --shapes circle,square,triangle,star --colors red,orange,yellow,green,blue,purple --languages en,de --caption-styles list,sentence --questions count,colour,shape,exists --plain-scenes --object-scale 1.5";
        var world = cli.Read(command.Parse(flags));
        Assert.Equal(Small.Describe(), world.Describe());
        Assert.Equal(world.Describe(), cli.Read(command.Parse(world.Describe())).Describe());
        Assert.Equal(1.4f, cli.Read(command.Parse(flags + " --separation 1.4")).Separation);
        Assert.EndsWith("--separation 1.4", cli.Read(command.Parse(flags + " --separation 1.4")).Describe());
        Assert.Equal(0.3, cli.Read(command.Parse(flags + " --count-all 0.3")).CountAllShare);
        Assert.EndsWith("--count-all 0.3", cli.Read(command.Parse(flags + " --count-all 0.3")).Describe());
        Assert.Equal(0.5, cli.Read(command.Parse(flags + " --other-wordings 0.5")).OtherWordingsShare);
        Assert.EndsWith("--other-wordings 0.5", cli.Read(command.Parse(flags + " --other-wordings 0.5")).Describe());
        Assert.Equal(0.25, cli.Read(command.Parse(flags + " --question-pairs 0.25")).QuestionPairsShare);
        Assert.EndsWith("--question-pairs 0.25", cli.Read(command.Parse(flags + " --question-pairs 0.25")).Describe());
        Assert.Equal(0.2, cli.Read(command.Parse(flags + " --scrambled-words 0.2")).ScrambledWordsShare);
        Assert.EndsWith("--scrambled-words 0.2", cli.Read(command.Parse(flags + " --scrambled-words 0.2")).Describe());
        Assert.Equal(0.3, cli.Read(command.Parse(flags + " --filler-words 0.3")).FillerWordsShare);
        Assert.EndsWith("--filler-words 0.3", cli.Read(command.Parse(flags + " --filler-words 0.3")).Describe());
        Assert.Equal(0.25, cli.Read(command.Parse(flags + " --colour-predicates 0.25")).ColourPredicateShare);
        Assert.EndsWith("--colour-predicates 0.25", cli.Read(command.Parse(flags + " --colour-predicates 0.25")).Describe());
        Assert.Equal(0.2, cli.Read(command.Parse(flags + " --rare-words 0.2")).RareWordsShare);
        Assert.EndsWith("--rare-words 0.2", cli.Read(command.Parse(flags + " --rare-words 0.2")).Describe());
        Assert.Equal(0.5, cli.Read(command.Parse(flags + " --single-attribute-exists 0.5")).SingleAttributeExistsShare);
        Assert.EndsWith("--single-attribute-exists 0.5", cli.Read(command.Parse(flags + " --single-attribute-exists 0.5")).Describe());
        Assert.Equal(1, cli.Read(command.Parse(flags + " --count-distractors 1")).CountDistractorShare);
        Assert.EndsWith("--count-distractors 1", cli.Read(command.Parse(flags + " --count-distractors 1")).Describe());
        Assert.Equal(0.3, cli.Read(command.Parse(flags + " --colour-word 0.3")).ColourWordShare);
        Assert.EndsWith("--colour-word 0.3", cli.Read(command.Parse(flags + " --colour-word 0.3")).Describe());
        Assert.True(cli.Read(command.Parse("")).IsFull);
        // One object: spatial questions are left out unless asked for.
        Assert.DoesNotContain(QuestionType.Spatial, cli.Read(command.Parse("--objects 1")).Questions);
    }

    [Fact]
    public void Records_that_say_the_same_thing_share_a_content_key()
    {
        var g = Generator(Small);
        var byKey = new Dictionary<ulong, HashSet<string>>();
        for (int i = 0; i < 3000; i++)
        {
            var e = g.Sample(Split.Train, 9, i, new ExampleMix(1, 0, 0, 0));
            Assert.NotEqual(0ul, e.ContentKey);
            // The caption's content: its groups (kind, count) in any order, without a relation.
            var content = string.Join(";", e.Scene!.Objects.GroupBy(o => (o.Shape, o.Color)).Select(x => $"{x.Key.Shape}/{x.Key.Color}x{x.Count()}").Order());
            if (!byKey.TryGetValue(e.ContentKey, out var set)) byKey[e.ContentKey] = set = [];
            set.Add(content);
        }
        Assert.All(byKey.Values, s => Assert.Single(s)); // one key, one content
        Assert.True(byKey.Count > 50, $"only {byKey.Count} distinct contents");
        Assert.True(byKey.Count < 3000 * 0.9, "the small world should repeat contents, with the same key");

        // Key equality ignores order and phrasing: a text pair's scene caption has the key of the image captions.
        var caption = WorldSampler.CaptionOf(new Scene(96, BackgroundKind.Flat, [0u, 0u], 0, 0, 0,
            [new SceneObject(ShapeKind.Star, ObjectColor.Red, null, ObjectSize.Small, 10, 10, 5), new SceneObject(ShapeKind.Circle, ObjectColor.Blue, null, ObjectSize.Small, 50, 50, 5)]), new Random(0), false);
        var reversed = new SceneCaption([caption.Groups[1], caption.Groups[0]], null);
        Assert.Equal(ContentKey.Of(caption), ContentKey.Of(reversed));
        Assert.Equal(ContentKey.Of(new RelationFact(new ObjectQuery(ShapeKind.Star), Relation.LeftOf, new ObjectQuery(ShapeKind.Circle))),
                     ContentKey.Of(new RelationFact(new ObjectQuery(ShapeKind.Circle), Relation.RightOf, new ObjectQuery(ShapeKind.Star))));
    }

    [Fact]
    public void A_spatial_question_record_says_which_relation_it_asks()
    {
        var g = Generator(Small with { MinObjects = 2, Questions = [QuestionType.Spatial] });
        var record = new byte[ExampleStream.RecordBytes(96)];
        var relations = new HashSet<Relation>();
        for (int i = 0; i < 60; i++)
        {
            var e = g.Sample(Split.Train, 12, i, new ExampleMix(0, 0, 1, 0));
            ExampleStream.WriteRecord(g, e, record);
            var relation = Assert.IsType<Relation>(e.Question!.Relation);
            relations.Add(relation);
            Assert.Equal((int)QuestionType.Spatial, record[3]);
            Assert.Equal((int)relation + 1, (record[28] & QuestionSubject.RelationMask) >> QuestionSubject.RelationShift);
            Assert.Equal(QuestionSubject.Known, record[28] & 3); // and the subject is known, plain
        }
        Assert.Equal(4, relations.Count); // left of, right of, above, below: each drawn
    }

    [Fact]
    public void A_spatial_records_relation_and_answer_say_which_object_comes_first_on_the_asked_axis()
    {
        // What train.py's order loss reads (training/README.md): yes and no are the last two answer classes, and a "no"
        // asks the opposite of a relation that holds, so relation and answer together give the two objects' order.
        Assert.Equal([Answers.Yes, Answers.No], Answers.All.TakeLast(2));
        var g = Generator(Small with { MinObjects = 2, MaxObjects = 4, Questions = [QuestionType.Spatial] });
        var record = new byte[ExampleStream.RecordBytes(96)];
        var seen = new HashSet<(int Axis, bool First)>();
        for (int i = 0; i < 200; i++)
        {
            var e = g.Sample(Split.Train, 13, i, new ExampleMix(0, 0, 1, 0));
            ExampleStream.WriteRecord(g, e, record);
            int relation = ((record[28] & QuestionSubject.RelationMask) >> QuestionSubject.RelationShift) - 1;
            int label = BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(4));
            Assert.InRange(label, Answers.All.Count - 2, Answers.All.Count - 1);
            bool first = (label == Answers.All.Count - 2) ^ (relation % 2 == 1);
            var q = e.Question!;
            var a = e.Scene!.Objects.Single(q.Subject.Matches);
            var b = e.Scene.Objects.Single(q.Other!.Matches);
            int axis = relation / 2;
            Assert.Equal(axis == 0 ? a.X < b.X : a.Y < b.Y, first);
            // never a near tie on the asked axis: the order holds by more than the larger radius
            Assert.True(Math.Abs(axis == 0 ? a.X - b.X : a.Y - b.Y) > Math.Max(a.Radius, b.Radius));
            seen.Add((axis, first));
        }
        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void The_stream_carries_the_content_key_and_starts_where_asked()
    {
        var g = Generator(Small);
        using var ms = new MemoryStream();
        var seen = new List<Example>();
        ExampleStream.Write(g, Split.Train, 5, ExampleMix.Default, ms, first: 1000, step: 3, count: 20, threads: 2, header: true, onExample: seen.Add);
        var bytes = ms.ToArray();
        int record = ExampleStream.RecordBytes(96);
        Assert.Equal(20, seen.Count);
        for (int k = 0; k < 20; k++)
        {
            var r = bytes.AsSpan(ExampleStream.HeaderBytes + k * record, record);
            Assert.Equal(1000 + 3 * k, BinaryPrimitives.ReadInt64LittleEndian(r[8..]));
            Assert.Equal(seen[k].Index, BinaryPrimitives.ReadInt64LittleEndian(r[8..]));
            Assert.Equal(g.Sample(Split.Train, 5, 1000 + 3 * k, ExampleMix.Default).ContentKey, BinaryPrimitives.ReadUInt64LittleEndian(r[16..]));
            var at = seen[k].Attributes;
            Assert.Equal([at.Flags, at.Colors, at.Shapes, at.Objects], r[24..28].ToArray());
            // byte 31: where the first plain object of a unique colour lies in the drawn scene (0 without a scene or such an object)
            if (seen[k].Scene is { } placed && seen[k].Kind is ExampleKind.Caption or ExampleKind.Vqa
                && placed.Objects.FirstOrDefault(o => !o.IsEmoji && placed.Objects.Count(p => p.Color == o.Color) == 1) is { } one)
                Assert.Equal(0x80 | (int)one.Color!.Value | (one.X < placed.Size / 2f ? 8 : 0) | (one.Y < placed.Size / 2f ? 16 : 0), r[31]);
            else Assert.Equal(0, r[31]);
            // bytes 32..63: objects per colour and shape, 4 bits each, where the flags say so (scenes, whole-scene captions)
            var pairs = new int[64];
            for (int b = 0; b < 32; b++) (pairs[2 * b], pairs[2 * b + 1]) = (r[32 + b] & 0xF, r[32 + b] >> 4);
            if (seen[k].Scene is { } drawn && seen[k].Kind is ExampleKind.Caption or ExampleKind.Vqa)
            {
                Assert.True((at.Flags & ContentAttributes.PairsKnown) != 0);
                for (int c = 0; c < 8; c++)
                    for (int sh = 0; sh < 8; sh++)
                        Assert.Equal(drawn.Objects.Count(o => o.Color == (ObjectColor)c && o.Shape == (ShapeKind)sh && !o.IsEmoji), pairs[8 * c + sh]);
            }
            else if ((at.Flags & ContentAttributes.PairsKnown) == 0) Assert.All(pairs, n => Assert.Equal(0, n));
            if (seen[k].Question is { Subject: var subject })
            {
                // bytes 28..30: what the question asks about, colour and shape as index + 1 (0 = not named)
                Assert.Equal(ExampleKind.Vqa, seen[k].Kind);
                // byte 28: known, emoji, and the relation of a spatial question + 1 in bits 2-4
                var relation = seen[k].Question!.Relation;
                Assert.Equal((subject.Emoji is null ? 1 : 3) | (relation is { } rel ? ((int)rel + 1) << 2 : 0), r[28]);
                Assert.Equal(seen[k].Question!.Type == QuestionType.Spatial, relation is not null);
                Assert.Equal(subject.Color is { } c ? (int)c + 1 : 0, r[29]);
                Assert.Equal(subject.Shape is { } sh ? (int)sh + 1 : 0, r[30]);
                Assert.Equal((int)seen[k].Question!.Type, r[3]);
            }
            else Assert.True(r[28..31].ToArray().All(b => b == 0), "only VQA records name a question's subject");
            if (seen[k].Kind == ExampleKind.Caption)
            {
                var scene = seen[k].Scene!;
                Assert.Equal(ContentAttributes.OnA | ContentAttributes.OnB | ContentAttributes.CountKnown | ContentAttributes.PairsKnown, at.Flags);
                Assert.Equal(scene.Objects.Count, at.Objects);
                Assert.Equal(scene.Objects.Aggregate(0, (m, o) => m | 1 << (int)o.Color!.Value), at.Colors);
                Assert.Equal(scene.Objects.Aggregate(0, (m, o) => m | 1 << (int)o.Shape!.Value), at.Shapes);
            }
            if (seen[k].Kind == ExampleKind.Pair) Assert.Equal(0, at.Flags);
            if (seen[k].Kind == ExampleKind.Vqa) Assert.Equal(ContentAttributes.OnA | ContentAttributes.CountKnown | ContentAttributes.PairsKnown, at.Flags & ~ContentAttributes.Emoji);
        }
    }

    [Fact]
    public void Pair_counts_bind_each_colour_to_its_shape()
    {
        SceneObject Shape(ShapeKind s, ObjectColor c) => new(s, c, null, ObjectSize.Small, 10, 10, 5);
        var objects = new[] { Shape(ShapeKind.Circle, ObjectColor.Red), Shape(ShapeKind.Circle, ObjectColor.Red), Shape(ShapeKind.Square, ObjectColor.Blue),
            new SceneObject(null, null, 3, ObjectSize.Large, 40, 40, 8) };
        var p = PairCounts.Of(objects);
        Assert.Equal(2, p[ObjectColor.Red, ShapeKind.Circle]);
        Assert.Equal(1, p[ObjectColor.Blue, ShapeKind.Square]);
        Assert.Equal(0, p[ObjectColor.Red, ShapeKind.Square]); // red and square are both there, but not together
        Assert.Equal(0, p[ObjectColor.Blue, ShapeKind.Circle]);
        Assert.Equal(p, PairCounts.Of(objects.Reverse())); // the order of the objects does not matter
        // A whole-scene caption's groups give the same counts; partial queries and emoji are skipped; counts stop at 15.
        var caption = new SceneCaption([new CountFact(new(ShapeKind.Circle, ObjectColor.Red), 2), new CountFact(new(ShapeKind.Square, ObjectColor.Blue), 1),
            new CountFact(new(Emoji: 3), 1)], null);
        Assert.Equal(p, ContentAttributes.OfFact(caption).Pairs);
        Assert.True((ContentAttributes.OfFact(caption).Flags & ContentAttributes.PairsKnown) != 0);
        Assert.False((ContentAttributes.OfFact(new CountFact(new(ShapeKind.Star, ObjectColor.Green), 0)).Flags & ContentAttributes.PairsKnown) != 0);
        Assert.Equal(15, PairCounts.Of([(new ObjectQuery(ShapeKind.Star, ObjectColor.Black), 20)])[ObjectColor.Black, ShapeKind.Star]);
        Assert.Equal(0, PairCounts.Of([(new ObjectQuery(ShapeKind.Star), 3)])[ObjectColor.Red, ShapeKind.Star]);
        var bytes = new byte[PairCounts.Bytes];
        p.WriteTo(bytes);
        Assert.Equal(0x02, bytes[0]); // red circle (index 0) in the low nibble of byte 0
        Assert.Equal(0x10, bytes[(8 * (int)ObjectColor.Blue + (int)ShapeKind.Square) / 2]); // blue square (index 33): high nibble of byte 16
    }

    [Fact]
    public void Meta_lines_describe_the_records()
    {
        var g = Generator(Small);
        for (int i = 0; i < 50; i++)
        {
            var e = g.Sample(Split.HeldOut, 1, i, new ExampleMix(1, 1, 1, 1));
            using var doc = JsonDocument.Parse(ExampleMeta.Json(g, e));
            var m = doc.RootElement;
            Assert.Equal(i, m.GetProperty("index").GetInt64());
            Assert.Equal(e.ContentKey.ToString("x16"), m.GetProperty("contentKey").GetString());
            Assert.Contains(m.GetProperty("language").GetString(), Small.Languages!);
            if (e.Scene is { } scene) Assert.Equal(scene.Objects.Count, m.GetProperty("objects").GetArrayLength());
            if (e.Kind == ExampleKind.Vqa) Assert.Equal(e.Question!.AnswerId, m.GetProperty("question").GetProperty("answer").GetString());
        }
    }

    [Fact]
    public void Small_canvases_get_a_profile_that_fits_a_question_and_224_keeps_the_trained_one()
    {
        Assert.Equal(new ShapedProfile { Name = "shaped-224", ImageSize = 224 }, ShapedProfile.ForImageSize(224) with { Text = new TextStyle(), Pair = new PairLayout(), Vqa = new VqaLayout() });
        var p224 = ShapedProfile.ForImageSize(224);
        Assert.Equal((8, 22f, 10f, 0.4f), (p224.Margin, p224.Text.FontSize, p224.Text.MinFontSize, p224.Vqa.MaxBandFraction));
        var renderer = new ShapedRenderer(ShapedProfile.ForImageSize(96));
        var image = new VqaApi.Rendering.DecodedImage(96, 96, new byte[96 * 96 * 3], "png", 1);
        var g = Generator(Small);
        for (int i = 0; i < 100; i++)
        {
            var e = g.Sample(Split.Train, 2, i, new ExampleMix(0, 0, 1, 0));
            var report = renderer.RenderVqa(e.TextA!, image).Report;
            Assert.False(report.Blocks[0].Truncated, $"'{e.TextA}' does not fit a 96 px VQA canvas ({report.Blocks[0].CodePointsNotFitted} code points cut)");
        }
    }

    [Fact]
    public void Other_wordings_ask_users_words_only_when_asked_for_and_say_shape_only_where_every_object_is_one()
    {
        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 1500)
            .Select(i => Generator(world).Sample(Split.Train, 5, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var plain = Vqa(Small);
        var other = Vqa(Small with { OtherWordingsShare = 1 });
        // "shapes"/"Figuren" for what a colour alone names, and frames the templates never use, only with the option.
        string[] otherWords = ["shapes", "Figur", "Count the", "Do you see", "siehst du", "Tell me", "Zähle", "Can you tell me", "Kannst du mir sagen",
            "Look at the picture. ", "Frage: "];
        Assert.DoesNotContain(plain, e => otherWords.Any(w => e.TextA!.Contains(w, StringComparison.Ordinal)));
        foreach (var w in otherWords) Assert.Contains(other, e => e.TextA!.Contains(w, StringComparison.Ordinal));
        Assert.Contains(other, e => e.TextA!.StartsWith("How many ", StringComparison.Ordinal) && e.TextA.Contains(" shapes ", StringComparison.Ordinal)
            && e.Question!.Subject is { Shape: null, Color: not null });
        Assert.DoesNotContain(other, e => e.TextA!.Contains("die die", StringComparison.Ordinal) || e.TextA.Contains("  ", StringComparison.Ordinal));
        // Answers stay the scene's: a count question's answer is the number of matching objects.
        Assert.All(other.Where(e => e.Question!.Type == QuestionType.Count), e =>
            Assert.Equal(Answers.Count(e.Scene!.Objects.Count(e.Question!.Subject.Matches)), e.Question.AnswerId));

        // With emoji about, "how many shapes" would not count them: every object is "objects"/"Objekte" there.
        var emoji = Vqa(Small with { EmojiShare = 0.5, CountAllShare = 1, OtherWordingsShare = 1, Questions = [QuestionType.Count] });
        var everything = emoji.Where(e => e.Question!.Subject == new ObjectQuery()).ToList();
        Assert.Contains(everything, e => e.Scene!.Objects.Any(o => o.IsEmoji));
        Assert.Contains(everything, e => e.Scene!.Objects.All(o => !o.IsEmoji) && (e.TextA!.Contains("shapes") || e.TextA.Contains("Figuren")));
        Assert.All(everything.Where(e => e.Scene!.Objects.Any(o => o.IsEmoji)), e =>
            Assert.False(e.TextA!.Contains("shape") || e.TextA.Contains("Figur"), $"'{e.TextA}' about a scene with an emoji"));
        Assert.Contains("--other-wordings", Assert.Throws<ArgumentException>(() => (Small with { OtherWordingsShare = -0.1 }).Validated()).Message);
    }

    [Fact]
    public void Scrambled_words_reorder_questions_only_when_asked_for_and_never_a_position_question()
    {
        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 800)
            .Select(i => Generator(world).Sample(Split.Train, 7, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en"], Questions = [QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists, QuestionType.Spatial] };
        var plain = Vqa(world);
        var scrambled = Vqa(world with { ScrambledWordsShare = 1 });
        // English templates begin with a capital ("What", "How", "Is"); scrambled, most begin with another word.
        Assert.All(plain, e => Assert.True(char.IsUpper(e.TextA![0]), e.TextA));
        var reordered = scrambled.Where(e => e.Question!.Type != QuestionType.Spatial).ToList();
        Assert.True(reordered.Count(e => char.IsLower(e.TextA![0])) > reordered.Count / 2, string.Join(" | ", reordered.Take(5).Select(e => e.TextA)));
        Assert.All(scrambled, e => Assert.EndsWith("?", e.TextA));
        Assert.DoesNotContain(scrambled, e => e.TextA!.Contains("  ", StringComparison.Ordinal));
        // A position question's order is its meaning: it stays as worded.
        var spatial = scrambled.Where(e => e.Question!.Type == QuestionType.Spatial).ToList();
        Assert.NotEmpty(spatial);
        Assert.All(spatial, e => Assert.True(char.IsUpper(e.TextA![0]), e.TextA));
        // The answer is the scene's, as without the option.
        Assert.All(reordered.Where(e => e.Question!.Type == QuestionType.Count), e =>
            Assert.Equal(Answers.Count(e.Scene!.Objects.Count(e.Question!.Subject.Matches)), e.Question.AnswerId));

        // The same words in another order; the closing mark stays last; text without spaces stays as it is.
        var random = new Random(1);
        for (int i = 0; i < 20; i++)
        {
            var s = WorldSampler.ScrambleWords("What colour is the cross?", random);
            Assert.NotEqual("What colour is the cross?", s);
            Assert.EndsWith("?", s);
            Assert.Equal(["What", "colour", "cross", "is", "the"], s[..^1].Split(' ').Order(StringComparer.Ordinal));
        }
        Assert.Equal("十字是什么颜色？", WorldSampler.ScrambleWords("十字是什么颜色？", random));
        Assert.Equal("Farbe?", WorldSampler.ScrambleWords("Farbe?", random));
        Assert.Contains("--scrambled-words", Assert.Throws<ArgumentException>(() => (Small with { ScrambledWordsShare = 1.5 }).Validated()).Message);
    }

    [Fact]
    public void Filler_words_wrap_questions_only_when_asked_for_and_keep_their_words_and_answers()
    {
        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 600)
            .Select(i => Generator(world).Sample(Split.Train, 11, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en", "de", "fr", "es", "ru", "zh"], Questions = [QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists] };
        var plain = Vqa(world);
        var filled = Vqa(world with { FillerWordsShare = 1 });
        var fillers = Languages.Create(Emoji).ToDictionary(l => l.Code, l => l.Fillers);
        bool HasFiller(Example e)
        {
            var f = fillers[Languages.Codes[e.LanguageA]];
            return f.LeadIns.Any(e.TextA!.StartsWith) || f.Tails.Any(t => e.TextA!.Contains(t, StringComparison.Ordinal))
                || f.Inserts.Any(w => e.TextA!.Split(' ').Contains(w));
        }
        Assert.True(plain.Count(HasFiller) < plain.Count / 10, string.Join(" | ", plain.Where(HasFiller).Take(5).Select(e => e.TextA)));
        Assert.All(filled, e => Assert.True(HasFiller(e), $"no filler in '{e.TextA}'"));
        Assert.All(filled, e => Assert.DoesNotContain("  ", e.TextA!, StringComparison.Ordinal));
        Assert.All(filled, e => Assert.True(e.TextA![^1] is '?' or '？' or '.' or '。', e.TextA));
        Assert.All(filled.Where(e => e.Question!.Type == QuestionType.Count), e =>
            Assert.Equal(Answers.Count(e.Scene!.Objects.Count(e.Question!.Subject.Matches)), e.Question.AnswerId));

        // Each language on one question: the question's words all stay, in their order, with its closing mark last.
        foreach (var language in Languages.Create(Emoji))
        {
            var q = language.Ask(new Question(QuestionType.Color, new ObjectQuery(Shape: ShapeKind.Cross), Answers.Color(ObjectColor.Blue)), new Random(0));
            var seen = new HashSet<string>();
            for (int i = 0; i < 60; i++)
            {
                var t = language.WithFillers(q, new Random(i));
                Assert.NotEqual(q, t);
                if (q[^1] is '?' or '？' or '.' or '。' or '؟' or '।') Assert.Equal(q[^1], t[^1]);
                int at = 0;
                foreach (var word in q.TrimEnd('?', '？', '.', '。', '؟', '।', ' ').Split(' '))
                {
                    int found = t.IndexOf(word, at, StringComparison.OrdinalIgnoreCase);
                    Assert.True(found >= 0, $"{language.Code}: '{word}' of '{q}' missing or out of order in '{t}'");
                    at = found + word.Length;
                }
                seen.Add(t);
            }
            Assert.True(seen.Count >= 5, $"{language.Code}: only {seen.Count} ways to wrap '{q}'");
        }
        // Never a word inside a quoted name.
        var ar = Languages.Get(Languages.Create(Emoji), "ar");
        Assert.All(Enumerable.Range(0, 100).Select(i => ar.WithFillers("هل الرمز «زهرة التوليب» تحت الدائرة؟", new Random(i))),
            t => Assert.Contains("«زهرة التوليب»", t, StringComparison.Ordinal));
        Assert.All(Enumerable.Range(0, 100).Select(i => Languages.Get(Languages.Create(Emoji), "ko").WithFillers("'호랑이 얼굴' 이모지가 있나요?", new Random(i))),
            t => Assert.Contains("'호랑이 얼굴'", t, StringComparison.Ordinal));
        // After a lead-in that ends in a comma, English goes on in lower case.
        var en = Languages.Get(Languages.Create(Emoji), "en");
        var hey = Enumerable.Range(0, 300).Select(i => en.WithFillers("What colour is the cross?", new Random(i))).Where(t => t.StartsWith("Hey,", StringComparison.Ordinal)).ToList();
        Assert.Contains("Hey, what colour is the cross?", hey);
        Assert.Contains("--filler-words", Assert.Throws<ArgumentException>(() => (Small with { FillerWordsShare = -1 }).Validated()).Message);
    }

    [Fact]
    public void Single_attribute_existence_questions_name_a_shape_or_a_colour_alone_only_when_asked_for()
    {
        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 600)
            .Select(i => Generator(world).Sample(Split.Train, 23, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en", "de", "ja", "ar"], Questions = [QuestionType.Exists], MaxObjects = 3 };
        var both = Vqa(world);
        var single = Vqa(world with { SingleAttributeExistsShare = 1 });
        var half = Vqa(world with { SingleAttributeExistsShare = 0.5 });
        static bool One(Example e) => e.Question!.Subject.Shape is null != e.Question.Subject.Color is null;
        // Without the option every existence question names both (the stream as before); with it, one attribute.
        Assert.All(both, e => Assert.False(One(e), e.TextA));
        Assert.All(single, e => Assert.True(One(e), e.TextA));
        Assert.InRange(half.Count(One), 200, 400);
        // Shapes alone and colours alone, half each, and the answer is what the scene holds: yes exactly when an object
        // matches; half of the answers yes.
        Assert.InRange(single.Count(e => e.Question!.Subject.Shape is not null), 220, 380);
        Assert.All(single, e => Assert.Equal(e.Scene!.Objects.Any(e.Question!.Subject.Matches) ? Answers.Yes : Answers.No, e.Question!.AnswerId));
        Assert.InRange(single.Count(e => e.Question!.AnswerId == Answers.Yes), 240, 360);
        // Near misses: "no" scenes often hold the other attribute of what is asked (a red square for "is there a star?" about a red star).
        Assert.Contains(single, e => e.Question!.AnswerId == Answers.No && e.Question.Subject.Shape is { } s && e.Scene!.Objects.Any(o => o.Shape != s));
        // Worded with the named attribute and nothing of the other (English: the world's shape and colour words).
        string[] shapes = ["circle", "square", "triangle", "star"], colours = ["red", "orange", "yellow", "green", "blue", "purple"];
        var en = single.Where(e => Languages.Codes[e.LanguageA] == "en").ToList();
        Assert.True(en.Count > 100);
        Assert.All(en, e =>
        {
            var q = e.Question!.Subject;
            var (named, other) = q.Shape is { } s ? (s.ToString().ToLowerInvariant(), colours) : (q.Color!.Value.ToString().ToLowerInvariant(), shapes);
            Assert.Contains(named, e.TextA!);
            Assert.DoesNotContain(other, w => Regex.IsMatch(e.TextA!, $@"\b{w}"));
        });
        Assert.Contains("--single-attribute-exists", Assert.Throws<ArgumentException>(() => (Small with { SingleAttributeExistsShare = 2 }).Validated()).Message);
    }

    [Fact]
    public void Count_distractors_keep_the_number_of_all_objects_from_answering_count_questions_only_when_asked_for()
    {
        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 600)
            .Select(i => Generator(world).Sample(Split.Train, 29, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en", "ru"], Questions = [QuestionType.Count], MaxObjects = 4, ObjectScale = 1f };
        static int Answer(Example e) => int.Parse(e.Question!.AnswerId["count_".Length..], CultureInfo.InvariantCulture);
        static bool All(Example e) => e.Scene!.Objects.Count == Answer(e);
        var plain = Vqa(world);
        var distractors = Vqa(world with { CountDistractorShare = 1 });
        var half = Vqa(world with { CountDistractorShare = 0.5 });
        // Without the option the number of all objects answers a good share of the questions (the shortcut); with it, only
        // where the answer is the world's maximum, and the answers and scenes stay true and in range.
        Assert.InRange(plain.Count(e => Answer(e) < 4 && All(e)), 100, 400);
        Assert.All(distractors, e => Assert.True(Answer(e) == 4 || !All(e), e.TextA));
        Assert.All(distractors, e => Assert.Equal(Answer(e), e.Scene!.Objects.Count(e.Question!.Subject.Matches)));
        Assert.All(distractors, e => Assert.InRange(e.Scene!.Objects.Count, 1, 4));
        int shortcutHalf = half.Count(e => Answer(e) < 4 && All(e));
        Assert.InRange(shortcutHalf, 1, plain.Count(e => Answer(e) < 4 && All(e)) - 40);
        // The answers stay balanced over 0..4 (the option adds an object, not an answer).
        Assert.All(Enumerable.Range(0, 5), n => Assert.InRange(distractors.Count(e => Answer(e) == n), 80, 160));
        // Count-all questions are unchanged: every object is what they count.
        var countAll = Vqa(world with { CountDistractorShare = 1, CountAllShare = 1 });
        Assert.All(countAll, e => Assert.True(All(e), e.TextA));
        Assert.Contains("--count-distractors", Assert.Throws<ArgumentException>(() => (Small with { CountDistractorShare = 1.5 }).Validated()).Message);
    }

    [Fact]
    public void The_word_for_colour_names_a_subjects_colour_in_every_language_only_when_asked_for()
    {
        // Each language's word for colour (German also says "in Rot", Thai "ที่มีสี...": a circle that has the colour).
        var marker = new Dictionary<string, Regex>
        {
            ["en"] = new("colour"), ["de"] = new(@"Farbe| in (Rot|Orange|Gelb|Grün|Blau|Violett|Rosa|Schwarz)\b"), ["fr"] = new("de couleur"),
            ["es"] = new("en color"), ["ru"] = new("цвета"), ["he"] = new("בצבע"), ["ar"] = new("باللون"), ["ja"] = new("色の|色が"),
            ["zh"] = new("颜色[是为]"), ["ko"] = new("색깔이"), ["hi"] = new("रंग (का|के|की)"), ["th"] = new("ที่มีสี"),
        };
        var red = new ObjectQuery(Color: ObjectColor.Red);
        var redCircle = new ObjectQuery(ShapeKind.Circle, ObjectColor.Red);
        var questions = new[]
        {
            new Question(QuestionType.Count, red, Answers.Count(2)),
            new Question(QuestionType.Count, redCircle, Answers.Count(1)),
            new Question(QuestionType.Shape, red, Answers.Shape(ShapeKind.Star)),
            new Question(QuestionType.Exists, red, Answers.Yes),
            new Question(QuestionType.Exists, redCircle, Answers.No),
        };
        foreach (var language in Languages.Create(Emoji))
        {
            var words = marker[language.Code];
            foreach (var q in questions)
            {
                var plain = Enumerable.Range(0, 100).Select(i => language.Ask(q, new Random(i))).ToList();
                var worded = Enumerable.Range(0, 100).Select(i => language.WithColourWord(new Random(i)).Ask(q, new Random(i))).ToList();
                Assert.All(plain, t => Assert.DoesNotMatch(words, t));
                Assert.All(worded, t => Assert.Matches(words, t));
                Assert.All(worded, t => Assert.False(t.Contains('{') || t.Contains("  ") || t != t.Trim(), $"{language.Code}: '{t}'"));
                // The other wordings say it too (the "shape" noun included), wherever a frame names the subject's phrase.
                var other = Enumerable.Range(0, 100).Select(i => language.WithColourWord(new Random(i)).AskInOtherWords(q, true, new Random(i))).ToList();
                Assert.True(other.Count(words.IsMatch) >= 50, $"{language.Code} {q.Type}: {other.Count(words.IsMatch)} of 100 in other words: {other.FirstOrDefault(t => !words.IsMatch(t))}");
            }
            // Questions that name no colour are unchanged.
            var star = new Question(QuestionType.Color, new ObjectQuery(Shape: ShapeKind.Star), Answers.Color(ObjectColor.Blue));
            Assert.Equal(language.Ask(star, new Random(3)), language.WithColourWord(new Random(5)).Ask(star, new Random(3)));
        }

        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 400)
            .Select(i => Generator(world).Sample(Split.Train, 31, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en"], Questions = [QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists] };
        var before = Vqa(world);
        var all = Vqa(world with { ColourWordShare = 1 });
        bool NamesColour(Example e) => e.Question!.Type != QuestionType.Color && e.Question.Subject.Color is not null;
        Assert.DoesNotContain(before, e => e.TextA!.Contains("colour", StringComparison.Ordinal) && e.Question!.Type != QuestionType.Color);
        Assert.All(all.Where(NamesColour), e => Assert.Contains("colour", e.TextA!, StringComparison.Ordinal));
        Assert.All(all.Where(e => !NamesColour(e) && e.Question!.Type != QuestionType.Color), e => Assert.DoesNotContain("colour", e.TextA!, StringComparison.Ordinal));
        Assert.True(all.Count(NamesColour) > 100);
        // The same questions and scenes; only their words change.
        Assert.Equal(before.Select(e => (e.Question!.AnswerId, e.ContentKey)), all.Select(e => (e.Question!.AnswerId, e.ContentKey)));
        Assert.Contains("--colour-word", Assert.Throws<ArgumentException>(() => (Small with { ColourWordShare = 2 }).Validated()).Message);
    }

    [Fact]
    public void Colour_predicates_word_colour_questions_in_every_language_only_when_asked_for()
    {
        var languages = Languages.Create(Emoji);
        var red = new[]
        {
            new Question(QuestionType.Count, new ObjectQuery(ShapeKind.Circle, ObjectColor.Red), Answers.Count(2)),
            new Question(QuestionType.Count, new ObjectQuery(Color: ObjectColor.Red), Answers.Count(1)),
            new Question(QuestionType.Shape, new ObjectQuery(Color: ObjectColor.Red), Answers.Shape(ShapeKind.Star)),
            new Question(QuestionType.Exists, new ObjectQuery(ShapeKind.Star, ObjectColor.Red), Answers.Yes),
            new Question(QuestionType.Exists, new ObjectQuery(Color: ObjectColor.Red), Answers.No),
        };
        foreach (var language in languages)
        {
            foreach (var q in red)
            {
                var templates = Enumerable.Range(0, 200).Select(i => language.Ask(q, new Random(i)))
                    .Concat(Enumerable.Range(0, 200).Select(i => language.AskInOtherWords(q, true, new Random(i)))).ToHashSet();
                var said = Enumerable.Range(0, 200).Select(i => language.AskWithColourPredicate(q, true, new Random(i))).ToList();
                Assert.All(said, t => Assert.False(t is null || t.Contains('{') || t.Contains("  ") || t != t.Trim(), $"{language.Code} {q.Type}: '{t}'"));
                Assert.True(said.Distinct().Count() >= 2, $"{language.Code} {q.Type}: one wording only");
                Assert.All(said, t => Assert.DoesNotContain(t!, templates));
                // The colour is in the words: blue asks otherwise than red from the same draws.
                var blue = q with { Subject = q.Subject with { Color = ObjectColor.Blue } };
                Assert.All(Enumerable.Range(0, 50), i => Assert.NotEqual(said[i], language.AskWithColourPredicate(blue, true, new Random(i))));
            }
            // Only questions that name a colour (no emoji) and ask a count, a shape or existence.
            Assert.Null(language.AskWithColourPredicate(new Question(QuestionType.Count, new ObjectQuery(Shape: ShapeKind.Circle), Answers.Count(1)), true, new Random(0)));
            Assert.Null(language.AskWithColourPredicate(new Question(QuestionType.Color, new ObjectQuery(ShapeKind.Circle, ObjectColor.Red), Answers.Color(ObjectColor.Red)), true, new Random(0)));
            Assert.Null(language.AskWithColourPredicate(new Question(QuestionType.Exists, new ObjectQuery(Emoji: 3), Answers.Yes), false, new Random(0)));
            Assert.Null(language.AskWithColourPredicate(new Question(QuestionType.Spatial, new ObjectQuery(ShapeKind.Circle, ObjectColor.Red), Answers.Yes,
                Relation.LeftOf, new ObjectQuery(Shape: ShapeKind.Star)), true, new Random(0)));
        }
        // Agreement, as a reader of each language writes it (every wording is one of a few, so 300 draws see them all).
        HashSet<string> All(string code, Question q) =>
            Enumerable.Range(0, 300).Select(i => Languages.Get(languages, code).AskWithColourPredicate(q, true, new Random(i))!).ToHashSet();
        Assert.Contains("How many circles are red?", All("en", red[0]));
        Assert.Contains("Parmi les cercles, combien sont rouges ?", All("fr", red[0]));
        Assert.Contains("Laquelle des formes est rouge ?", All("fr", red[2]));
        Assert.Contains("Welche der Figuren ist rot?", All("de", red[2]));
        Assert.Contains("Ist einer der Sterne rot?", All("de", red[3]));
        Assert.Contains("¿Es roja alguna estrella?", All("es", red[3]));
        Assert.Contains("Какая из фигур красная?", All("ru", red[2]));
        Assert.Contains("Сколько среди кругов красных?", All("ru", red[0]));
        Assert.Contains("איזו צורה היא אדומה?", All("he", red[2]));
        Assert.Contains("האם אחד מהכוכבים אדום?", All("he", red[3]));
        Assert.Contains("هل إحدى النجمات حمراء؟", All("ar", red[3]));
        Assert.Contains("कौन सी आकृति लाल है?", All("hi", red[2]));
        Assert.Contains("哪个图形是红色的？", All("zh", red[2]));
        Assert.Contains("どの図形が赤色ですか？", All("ja", red[2]));
        Assert.Contains("어느 도형이 빨간색입니까?", All("ko", red[2]));
        Assert.Contains("มีวงกลมกี่วงที่เป็นสีแดง", All("th", red[0]));

        // In a stream: off, no question is worded so; on, every such question is, with the same scenes and answers.
        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 400)
            .Select(i => Generator(world).Sample(Split.Train, 13, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en"], Questions = [QuestionType.Count, QuestionType.Shape, QuestionType.Exists] };
        var plain = Vqa(world);
        var worded = Vqa(world with { ColourPredicateShare = 1 });
        bool Named(Example e) => e.Question!.Subject.Color is not null && e.Question.Subject.Emoji is null;
        bool Predicate(Example e) => Regex.IsMatch(e.TextA!, @"\b(red|orange|yellow|green|blue|purple|pink|black)[?.]$|that are|that is");
        Assert.True(worded.Count(Named) > 100);
        Assert.All(worded.Where(Named), e => Assert.True(Predicate(e), e.TextA));
        Assert.DoesNotContain(plain, Predicate);
        Assert.Equal(plain.Select(e => (e.Question!.AnswerId, e.ContentKey)), worded.Select(e => (e.Question!.AnswerId, e.ContentKey)));
        Assert.Contains("--colour-predicates", Assert.Throws<ArgumentException>(() => (Small with { ColourPredicateShare = 1.5 }).Validated()).Message);
    }

    /// <summary>The filler words must not be those of training/paraphrase_check.py's own wordings ("eigentlich", "here", "for
    /// me"), or the check would measure words the model was trained to skip, not how it takes words it has never seen.</summary>
    [Fact]
    public void Filler_words_are_none_of_the_paraphrase_checks_own_words()
    {
        var hits = new List<string>();
        foreach (var language in Languages.Create(Emoji))
        {
            var f = language.Fillers;
            foreach (var filler in f.LeadIns.Concat(f.Tails).Concat(f.Inserts))
                hits.AddRange(WordsOfOwnWordings(filler).Select(h => $"{language.Code} filler '{filler}': {h}"));
        }
        Assert.True(hits.Count == 0, string.Join("\n", hits));
        // The test can fail: "here" is one of the check's words.
        Assert.NotEmpty(WordsOfOwnWordings("over here"));
    }

    /// <summary>Each own wording is asked once: a later set that repeats an earlier one measures nothing new and counts
    /// the same questions twice in the totals.</summary>
    [Fact]
    public void Own_wordings_of_the_paraphrase_check_are_all_different()
    {
        var own = OwnWordings();
        var repeated = own.GroupBy(w => w).Where(g => g.Count() > 1).Select(g => $"'{g.Key}' {g.Count()} times").ToList();
        Assert.True(repeated.Count == 0, string.Join("\n", repeated));
        Assert.True(own.Count >= 190, $"{own.Count} own wordings read from paraphrase_check.py");
    }

    /// <summary>The same for the rare words: the check must measure words the model never read, not these.</summary>
    [Fact]
    public void Rare_words_are_none_of_the_paraphrase_checks_own_words()
    {
        var hits = new List<string>();
        foreach (var language in Languages.Create(Emoji))
        {
            Assert.True(language.RareWords.Count >= 5, $"{language.Code}: {language.RareWords.Count} rare words");
            foreach (var word in language.RareWords)
                hits.AddRange(WordsOfOwnWordings(word).Select(h => $"{language.Code} rare word '{word}': {h}"));
        }
        Assert.True(hits.Count == 0, string.Join("\n", hits));
        Assert.NotEmpty(WordsOfOwnWordings("見当たりますか"));
    }

    /// <summary>Each word of <paramref name="text"/> (two letters or more) that is in one of the check's own wordings:
    /// words of scripts written with spaces as whole words, Thai, Chinese and Japanese ones as any substring.</summary>
    private static List<string> WordsOfOwnWordings(string text)
    {
        var own = OwnWordings().Select(w => Regex.Replace(w, @"\{[^}]*}", " ")).ToList();
        Assert.True(own.Count >= 5);
        var hits = new List<string>();
        foreach (var word in Regex.Split(text, @"[\s\p{P}]+").Where(w => w.Length >= 2))
        {
            bool spaced = word.All(c => c < 0x0E00 || c is >= '\uAC00' and <= '\uD7AF');
            var hit = own.FirstOrDefault(o => spaced
                ? Regex.IsMatch(o, $@"(?<!\p{{L}}){Regex.Escape(word)}(?!\p{{L}})", RegexOptions.IgnoreCase)
                : o.Contains(word, StringComparison.Ordinal));
            if (hit is not null) hits.Add($"'{word}' is in the check's own wording '{hit}'");
        }
        return hits;
    }

    [Fact]
    public void Rare_words_word_questions_in_every_language_only_when_asked_for()
    {
        var star = new ObjectQuery(Shape: ShapeKind.Star);
        var questions = new[]
        {
            new Question(QuestionType.Count, new ObjectQuery(Color: ObjectColor.Blue), Answers.Count(2)),
            new Question(QuestionType.Count, new ObjectQuery(), Answers.Count(3)),
            new Question(QuestionType.Color, star, Answers.Color(ObjectColor.Red)),
            new Question(QuestionType.Shape, new ObjectQuery(Color: ObjectColor.Green), Answers.Shape(ShapeKind.Heart)),
            new Question(QuestionType.Exists, new ObjectQuery(ShapeKind.Cross, ObjectColor.Black), Answers.Yes),
            new Question(QuestionType.Exists, new ObjectQuery(Emoji: 3), Answers.No),
            new Question(QuestionType.Exists, new ObjectQuery(Shape: ShapeKind.Circle), Answers.No),
            new Question(QuestionType.Exists, new ObjectQuery(Color: ObjectColor.Red), Answers.Yes),
        };
        foreach (var language in Languages.Create(Emoji))
        {
            foreach (var q in questions)
            {
                var usual = Enumerable.Range(0, 200).Select(i => language.Ask(q, new Random(i)))
                    .Concat(Enumerable.Range(0, 200).Select(i => language.AskInOtherWords(q, true, new Random(i)))).ToHashSet();
                var rare = Enumerable.Range(0, 200).Select(i => language.AskInRareWords(q, true, new Random(i))).ToList();
                Assert.All(rare, t => Assert.False(t is null || t.Contains('{') || t.Contains("  ") || t != t.Trim(), $"{language.Code} {q.Type}: '{t}'"));
                Assert.All(rare, t => Assert.Contains(language.RareWords, w => t!.Contains(w, StringComparison.Ordinal)));
                Assert.All(rare, t => Assert.DoesNotContain(t!, usual));
            }
            // Every rare word is used, and nothing for a position question.
            var all = questions.SelectMany(q => Enumerable.Range(0, 200).Select(i => language.AskInRareWords(q, true, new Random(i))!)).ToList();
            Assert.All(language.RareWords, w => Assert.Contains(all, t => t.Contains(w, StringComparison.Ordinal)));
            Assert.Null(language.AskInRareWords(new Question(QuestionType.Spatial, star, Answers.Yes, Relation.LeftOf, new ObjectQuery(Shape: ShapeKind.Circle)), true, new Random(0)));
        }

        static List<Example> Vqa(WorldOptions world) => Enumerable.Range(0, 300)
            .Select(i => Generator(world).Sample(Split.Train, 17, i, new ExampleMix(0, 0, 1, 0))).ToList();
        var world = Small with { Languages = ["en", "de", "ja"], Questions = [QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists] };
        var words = Languages.Create(Emoji).ToDictionary(l => l.Code, l => l.RareWords);
        bool Rare(Example e) => words[Languages.Codes[e.LanguageA]].Any(w => e.TextA!.Contains(w, StringComparison.Ordinal));
        var plain = Vqa(world);
        var rareStream = Vqa(world with { RareWordsShare = 1 });
        Assert.DoesNotContain(plain, Rare);
        Assert.All(rareStream, e => Assert.True(Rare(e), e.TextA));
        Assert.Equal(plain.Select(e => (e.Question!.AnswerId, e.ContentKey)), rareStream.Select(e => (e.Question!.AnswerId, e.ContentKey)));
        Assert.Contains("--rare-words", Assert.Throws<ArgumentException>(() => (Small with { RareWordsShare = -0.1 }).Validated()).Message);
    }

    private static List<string> OwnWordings()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "VqaApi.sln"))) root = root.Parent;
        Assert.NotNull(root);
        return File.ReadLines(Path.Combine(root.FullName, "training", "paraphrase_check.py"))
            .Select(l => Regex.Match(l, @", OWN, f?""([^""]+)""")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
    }

    [Fact]
    public void Question_pairs_ask_one_question_twice_only_when_asked_for()
    {
        static List<Example> Texts(WorldOptions world) => Enumerable.Range(0, 600)
            .Select(i => Generator(world).Sample(Split.Train, 3, i, new ExampleMix(0, 1, 0, 0))).ToList();
        var world = Small with { Languages = ["en"], Questions = [QuestionType.Color, QuestionType.Shape, QuestionType.Exists] };
        var facts = Texts(world);
        var asked = Texts(world with { QuestionPairsShare = 1 });
        Assert.DoesNotContain(facts, e => e.TextA!.EndsWith('?') || e.TextB!.EndsWith('?'));
        Assert.True(asked.Count(e => e.TextA!.EndsWith('?') && e.TextB!.EndsWith('?')) > asked.Count * 3 / 4);
        Assert.All(asked, e => Assert.NotEqual(e.TextA, e.TextB));
        // Both sides name the same colour and shape words, and so does every pair that shares the content key.
        string[] words = ["red", "orange", "yellow", "green", "blue", "purple", "circle", "square", "triangle", "star"];
        string Named(string text) => string.Join(",", words.Where(w => Regex.IsMatch(text, $@"\b{w}")));
        Assert.All(asked, e => Assert.Equal(Named(e.TextA!), Named(e.TextB!)));
        Assert.All(asked.GroupBy(e => e.ContentKey), g => Assert.Single(g.Select(e => Named(e.TextA!)).Distinct()));
        Assert.True(asked.Select(e => e.ContentKey).Distinct().Count() > 20);
        Assert.All(asked, e => Assert.Equal(ContentAttributes.OnA | ContentAttributes.OnB, e.Attributes.Flags & (ContentAttributes.OnA | ContentAttributes.OnB)));

        // The key is what is asked: not the answer, and "A left of B" is "B right of A".
        var a = new ObjectQuery(ShapeKind.Circle, ObjectColor.Red);
        var b = new ObjectQuery(Shape: ShapeKind.Star);
        Assert.Equal(ContentKey.OfAsked(new Question(QuestionType.Spatial, a, Answers.Yes, Relation.LeftOf, b)),
            ContentKey.OfAsked(new Question(QuestionType.Spatial, b, Answers.No, Relation.RightOf, a)));
        Assert.NotEqual(ContentKey.OfAsked(new Question(QuestionType.Spatial, a, Answers.Yes, Relation.LeftOf, b)),
            ContentKey.OfAsked(new Question(QuestionType.Spatial, b, Answers.Yes, Relation.LeftOf, a)));
        Assert.NotEqual(ContentKey.OfAsked(new Question(QuestionType.Color, a, Answers.Color(ObjectColor.Red))),
            ContentKey.OfAsked(new Question(QuestionType.Shape, a, Answers.Shape(ShapeKind.Circle))));
        Assert.Contains("--question-pairs", Assert.Throws<ArgumentException>(() => (Small with { QuestionPairsShare = 2 }).Validated()).Message);
    }

    [Fact]
    public void Every_language_has_other_wordings_than_its_templates()
    {
        var questions = new List<Question>
        {
            new(QuestionType.Count, new ObjectQuery(Color: ObjectColor.Blue), Answers.Count(2)),
            new(QuestionType.Count, new ObjectQuery(Shape: ShapeKind.Circle), Answers.Count(1)),
            new(QuestionType.Count, new ObjectQuery(), Answers.Count(3)),
            new(QuestionType.Color, new ObjectQuery(Shape: ShapeKind.Star), Answers.Color(ObjectColor.Red)),
            new(QuestionType.Shape, new ObjectQuery(Color: ObjectColor.Green), Answers.Shape(ShapeKind.Heart)),
            new(QuestionType.Exists, new ObjectQuery(ShapeKind.Cross, ObjectColor.Black), Answers.Yes),
        };
        foreach (var language in Languages.Create(Emoji))
            foreach (var q in questions)
            {
                var templates = Enumerable.Range(0, 200).Select(i => language.Ask(q, new Random(i))).ToHashSet();
                var others = Enumerable.Range(0, 200).Select(i => language.AskInOtherWords(q, true, new Random(i))).ToHashSet();
                Assert.All(others, t => Assert.False(string.IsNullOrWhiteSpace(t) || t.Contains('{') || t.Contains("  "), $"{language.Code}: '{t}'"));
                Assert.True(others.Except(templates).Any(), $"{language.Code} {q.Type}: no wording beyond the templates");
                // Counting every object where only shapes are about: the language's "shape" noun, never with emoji about.
                if (q.Subject == new ObjectQuery())
                {
                    var withEmoji = Enumerable.Range(0, 200).Select(i => language.AskInOtherWords(q, false, new Random(i))).ToHashSet();
                    Assert.True(others.Except(withEmoji).Any(), $"{language.Code}: no 'shape' noun for counting every shape");
                }
            }
    }

    /// <summary>training/paraphrase_check.py measures questions in "own words" (its OWN wordings) as words no training
    /// saw: the generator must never write them, with every option on (other wordings at half, so the templates appear too).</summary>
    [Fact]
    public void The_paraphrase_checks_own_words_stay_out_of_the_generator()
    {
        // A placeholder ({c}, {s}, {}) stands for any words; a preamble ("Question: ") may come first.
        var own = OwnWordings()
            .Select(w => new Regex(@"^(?:.*[\s:：。])?" + Regex.Replace(Regex.Escape(w), @"\\\{[^}]*}", ".+") + "$"))
            .ToList();
        Assert.True(own.Count >= 5, $"found {own.Count} own wordings in paraphrase_check.py");
        Assert.Contains(own, p => p.IsMatch("How many of the shapes are red?"));
        Assert.Contains(own, p => p.IsMatch("¿La estrella es de qué color?"));
        Assert.Contains(own, p => p.IsMatch("Pregunta: ¿La estrella es de qué color?"));
        var world = new WorldOptions
        {
            MinObjects = 1, MaxObjects = 3, EmojiShare = 0, Languages = ["en", "de", "fr", "es", "ja", "ru", "zh", "ko", "ar", "he", "hi", "th"], CountAllShare = 0.5, OtherWordingsShare = 0.5, ScrambledWordsShare = 0.2, FillerWordsShare = 0.3, ColourPredicateShare = 0.3, RareWordsShare = 0.2, SingleAttributeExistsShare = 0.5, CountDistractorShare = 0.5, ColourWordShare = 0.3,
            Questions = [QuestionType.Count, QuestionType.Color, QuestionType.Shape, QuestionType.Exists],
        }.Validated();
        var g = Generator(world);
        var texts = Enumerable.Range(0, 30000).Select(i => g.Sample(Split.Train, 7, i, new ExampleMix(0, 0, 1, 0)).TextA!).ToHashSet();
        Assert.True(texts.Count > 1500, $"{texts.Count} distinct questions");
        Assert.Contains(own, p => p.IsMatch("원 색깔이 뭐예요?"));
        foreach (var pattern in own)
            Assert.True(!texts.Any(pattern.IsMatch), $"the generator writes own words /{pattern}/: '{texts.FirstOrDefault(pattern.IsMatch)}'");
    }

    [Fact]
    public void The_samplers_question_wording_follows_the_option_and_draws_nothing_without_it()
    {
        var en = Languages.Get(Languages.Create(Emoji), "en");
        var plain = new WorldSampler(96, 0, Small);
        var other = new WorldSampler(96, 0, Small with { OtherWordingsShare = 1 });
        for (int i = 0; i < 200; i++)
        {
            var item = plain.RandomVqa(new Random(i));
            // Without the option: exactly the templates, from the same random draws (eval and streams stay as they were).
            Assert.Equal(en.Ask(item.Question, new Random(i)), plain.Ask(en, item, new Random(i)));
            var r = new Random(i);
            r.NextDouble(); // the share's draw
            Assert.Equal(en.AskInOtherWords(item.Question, item.Scene.Objects.All(o => !o.IsEmoji), r), other.Ask(en, item, new Random(i)));
        }
    }
}
