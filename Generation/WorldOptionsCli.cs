using System.CommandLine;
using System.Globalization;

namespace VqaApi.Generation;

/// <summary>The <see cref="WorldOptions"/> as command-line flags, shared by the generator's verbs and `eval`.</summary>
public sealed class WorldOptionsCli
{
    private readonly Option<string?> _objects = new("--objects") { Description = "objects per scene, a range like 1-3 (default 1-8)" };
    private readonly Option<double?> _emojiShare = new("--emoji-share") { Description = "chance that a drawn object is an emoji, 0..1 (default 0.3; 0 = no emoji)" };
    private readonly Option<string?> _shapes = new("--shapes") { Description = "shapes drawn, e.g. circle,square,triangle,star (default all 8)" };
    private readonly Option<string?> _colors = new("--colors") { Description = "colours drawn, e.g. red,blue,green,yellow (default all 8)" };
    private readonly Option<string?> _languages = new("--languages") { Description = "languages written, e.g. en,de (default all 12)" };
    private readonly Option<string?> _captionStyles = new("--caption-styles") { Description = "caption styles: some of list,sentence,relation,word (default list,sentence,relation)" };
    private readonly Option<string?> _questions = new("--questions") { Description = "VQA question types: some of count,color,shape,exists,spatial (default all); a type named twice is asked twice as often" };
    private readonly Option<bool> _plain = new("--plain-scenes") { Description = "flat backgrounds, no noise, no blur" };
    private readonly Option<float?> _scale = new("--object-scale") { Description = "multiply object sizes by this, 0.5..2.5 (default 1)" };
    private readonly Option<bool> _countSingle = new("--count-single-attribute") { Description = "count questions name one attribute only (how many circles / red objects), not both" };
    private readonly Option<double?> _countAll = new("--count-all") { Description = "share of count questions about all objects (how many objects are there?), 0..1 (default 0)" };
    private readonly Option<double?> _otherWordings = new("--other-wordings") { Description = "share of VQA questions asked in other words than the templates (how many blue shapes, what is the red shape?), 0..1 (default 0)" };
    private readonly Option<double?> _questionPairs = new("--question-pairs") { Description = "share of generated text pairs that are one question in two languages or wordings (templates or other words), 0..1 (default 0)" };
    private readonly Option<double?> _scrambledWords = new("--scrambled-words") { Description = "share of VQA questions (not position questions) whose words come in a random order, 0..1 (default 0)" };
    private readonly Option<double?> _fillerWords = new("--filler-words") { Description = "share of VQA questions given a word or two that change nothing (Hey, / , please / exactly), 0..1 (default 0)" };
    private readonly Option<double?> _colourPredicates = new("--colour-predicates") { Description = "share of count, shape and existence questions naming a colour that say it as a predicate (how many circles are red? which shape is red?), 0..1 (default 0)" };
    private readonly Option<double?> _rareWords = new("--rare-words") { Description = "share of count, colour, shape and existence questions worded with less common words for what they ask (what hue, can you spot), 0..1 (default 0)" };
    private readonly Option<double?> _singleAttributeExists = new("--single-attribute-exists") { Description = "share of existence questions about a shape that name its shape alone or its colour alone (is there a star? is there anything red?), 0..1 (default 0)" };
    private readonly Option<double?> _countDistractors = new("--count-distractors") { Description = "share of count questions about a shape or a colour whose scene always holds an object that does not match, so the answer is not the number of all objects, 0..1 (default 0)" };
    private readonly Option<double?> _colourWord = new("--colour-word") { Description = "share of count, shape and existence questions naming a colour that say it with the word for colour (the shape with the colour red, the red-coloured object), 0..1 (default 0)" };
    private readonly Option<float?> _separation = new("--separation") { Description = "object centres at least this times their summed radii apart, 0.5..3 (default 0.8: small overlaps; 1.5: no two shapes touch)" };

    private readonly bool _withLanguages;

    /// <param name="withLanguages">false where the command has its own --languages (eval).</param>
    public WorldOptionsCli(bool withLanguages = true) => _withLanguages = withLanguages;

    public IEnumerable<Option> All => _withLanguages
        ? [_objects, _emojiShare, _shapes, _colors, _languages, _captionStyles, _questions, _plain, _scale, _separation, _countSingle, _countAll, _otherWordings, _questionPairs, _scrambledWords, _fillerWords, _colourPredicates, _rareWords, _singleAttributeExists, _countDistractors, _colourWord]
        : [_objects, _emojiShare, _shapes, _colors, _captionStyles, _questions, _plain, _scale, _separation, _countSingle, _countAll, _otherWordings, _questionPairs, _scrambledWords, _fillerWords, _colourPredicates, _rareWords, _singleAttributeExists, _countDistractors, _colourWord];

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    public WorldOptions Read(ParseResult parse)
    {
        var w = WorldOptions.Full;
        if (parse.GetValue(_objects) is { } objects)
        {
            var (min, max) = WorldOptions.ParseRange(objects);
            w = w with { MinObjects = min, MaxObjects = max };
        }
        if (parse.GetValue(_emojiShare) is { } share) w = w with { EmojiShare = share };
        if (parse.GetValue(_shapes) is { } shapes) w = w with { Shapes = WorldOptions.ParseList<ShapeKind>(shapes, "--shapes") };
        if (parse.GetValue(_colors) is { } colors) w = w with { Colors = WorldOptions.ParseList<ObjectColor>(colors, "--colors") };
        if (_withLanguages && parse.GetValue(_languages) is { } languages)
            w = w with { Languages = languages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.ToLower(CultureInfo.InvariantCulture)).ToList() };
        if (parse.GetValue(_captionStyles) is { } styles) w = w with { CaptionStyles = WorldOptions.ParseCaptionStyles(styles) };
        if (parse.GetValue(_questions) is { } questions) w = w with { Questions = WorldOptions.ParseList<QuestionType>(questions, "--questions") };
        else if (w.MaxObjects < 2) w = w with { Questions = [.. WorldOptions.AllQuestions.Where(q => q != QuestionType.Spatial)] }; // one object has no relations
        if (parse.GetValue(_plain)) w = w with { PlainScenes = true };
        if (parse.GetValue(_scale) is { } scale) w = w with { ObjectScale = scale };
        if (parse.GetValue(_separation) is { } separation) w = w with { Separation = separation };
        if (parse.GetValue(_countSingle)) w = w with { CountBySingleAttribute = true };
        if (parse.GetValue(_countAll) is { } countAll) w = w with { CountAllShare = countAll };
        if (parse.GetValue(_otherWordings) is { } other) w = w with { OtherWordingsShare = other };
        if (parse.GetValue(_questionPairs) is { } pairs) w = w with { QuestionPairsShare = pairs };
        if (parse.GetValue(_scrambledWords) is { } scrambled) w = w with { ScrambledWordsShare = scrambled };
        if (parse.GetValue(_fillerWords) is { } fillers) w = w with { FillerWordsShare = fillers };
        if (parse.GetValue(_colourPredicates) is { } predicates) w = w with { ColourPredicateShare = predicates };
        if (parse.GetValue(_rareWords) is { } rare) w = w with { RareWordsShare = rare };
        if (parse.GetValue(_singleAttributeExists) is { } single) w = w with { SingleAttributeExistsShare = single };
        if (parse.GetValue(_countDistractors) is { } distractors) w = w with { CountDistractorShare = distractors };
        if (parse.GetValue(_colourWord) is { } colourWord) w = w with { ColourWordShare = colourWord };
        return w.Validated();
    }
}
