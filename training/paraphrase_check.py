#!/usr/bin/env python3
"""Questions in users' own words: VQA accuracy through a running service on held-out generated scenes, asked with
English wordings beside the generator's own (Generation/Languages/English.cs).

  python3 training/paraphrase_check.py --url http://127.0.0.1:5000 [--scenes 150] [--seed 11] [--out FILE.json] [--answer-kinds]

Draws held-out scenes of 1-3 shapes (no emoji) with `vqa-generate preview` (built in Release), asks each scene the
questions below (in English, and some in German, French, Spanish, Japanese, Russian and Chinese; wordings marked "2" are
the second set of own words, added on 2026-12-05, "3" the third, added later that day, "4" the fourth, in Korean, Arabic,
Hebrew, Hindi and Thai, "5" the fifth, "6" the sixth and "7" the seventh, two in each of the 12 languages each) where their answer is defined, and prints accuracy by wording and totals by what writes the wording:
"own words" that the generator never writes with any option (CurriculumTests checks this file's OWN wordings against
a stream with every option on), its templates, and the wordings only `--count-all` and/or `--other-wordings` add.
The eval suite measures the generator's wordings only; a model that learnt them and not the words shows it here.
"""
import argparse, collections, json, os, random, subprocess, sys, tempfile, urllib.request, uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GENERATOR = os.path.join(REPO, "GeneratorTool", "bin", "Release", "net10.0", "vqa-generate.dll")  # built in Release
SHAPES = ["circle", "square", "triangle", "star", "heart", "cross", "diamond", "hexagon"]
COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "black"]
# The shape with its article, for the few questions asked in German, French, Spanish and Japanese.
DE = dict(zip(SHAPES, ["der Kreis", "das Quadrat", "das Dreieck", "der Stern", "das Herz", "das Kreuz", "die Raute", "das Sechseck"]))
FR = dict(zip(SHAPES, ["le cercle", "le carré", "le triangle", "l'étoile", "le cœur", "la croix", "le losange", "l'hexagone"]))
ES = dict(zip(SHAPES, ["El círculo", "El cuadrado", "El triángulo", "La estrella", "El corazón", "La cruz", "El rombo", "El hexágono"]))
JA = dict(zip(SHAPES, ["円", "正方形", "三角形", "星", "ハート", "十字", "ひし形", "六角形"]))
# The second set of own words (2026-12-05): more wordings per language, and Russian and Chinese.
DE_A = dict(zip(SHAPES, ["ein Kreis", "ein Quadrat", "ein Dreieck", "ein Stern", "ein Herz", "ein Kreuz", "eine Raute", "ein Sechseck"]))
DE_C = dict(zip(COLORS, ["rot", "orange", "gelb", "grün", "blau", "violett", "rosa", "schwarz"]))
FR_OF = dict(zip(SHAPES, ["du cercle", "du carré", "du triangle", "de l'étoile", "du cœur", "de la croix", "du losange", "de l'hexagone"]))
FR_A = dict(zip(SHAPES, ["un cercle", "un carré", "un triangle", "une étoile", "un cœur", "une croix", "un losange", "un hexagone"]))
FR_CF = dict(zip(COLORS, ["rouge", "orange", "jaune", "verte", "bleue", "violette", "rose", "noire"]))
FR_CFP = dict(zip(COLORS, ["rouges", "orange", "jaunes", "vertes", "bleues", "violettes", "roses", "noires"]))
ES_OF = dict(zip(SHAPES, ["del círculo", "del cuadrado", "del triángulo", "de la estrella", "del corazón", "de la cruz", "del rombo", "del hexágono"]))
ES_A = dict(zip(SHAPES, ["un círculo", "un cuadrado", "un triángulo", "una estrella", "un corazón", "una cruz", "un rombo", "un hexágono"]))
ES_CF = dict(zip(COLORS, ["roja", "naranja", "amarilla", "verde", "azul", "morada", "rosa", "negra"]))
ES_CFP = dict(zip(COLORS, ["rojas", "naranjas", "amarillas", "verdes", "azules", "moradas", "rosas", "negras"]))
JA_C = dict(zip(COLORS, ["赤い", "オレンジ色の", "黄色い", "緑の", "青い", "紫の", "ピンクの", "黒い"]))
RU = dict(zip(SHAPES, ["круг", "квадрат", "треугольник", "звезда", "сердце", "крест", "ромб", "шестиугольник"]))
RU_DRAWN = dict(zip(SHAPES, ["Нарисован", "Нарисован", "Нарисован", "Нарисована", "Нарисовано", "Нарисован", "Нарисован", "Нарисован"]))
ZH = dict(zip(SHAPES, ["圆形", "正方形", "三角形", "星形", "心形", "十字形", "菱形", "六边形"]))
ZH_C = dict(zip(COLORS, ["红色", "橙色", "黄色", "绿色", "蓝色", "紫色", "粉色", "黑色"]))
# The third set (2026-12-05, ninth session, written before the model it first judged had been measured).
DE_CE = dict(zip(COLORS, ["rote", "orange", "gelbe", "grüne", "blaue", "violette", "rosa", "schwarze"]))
DE_CEN = dict(zip(COLORS, ["roten", "orangen", "gelben", "grünen", "blauen", "violetten", "rosa", "schwarzen"]))
ES_L = {k: v[0].lower() + v[1:] for k, v in ES.items()}
RU_CF = dict(zip(COLORS, ["красная", "оранжевая", "жёлтая", "зелёная", "синяя", "фиолетовая", "розовая", "чёрная"]))


def ask(url, png, question):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"question\"\r\n\r\n{question}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"s.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url.rstrip("/") + "/v1/vqa", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["answers"][0]["label"]


# What writes each wording: "own words" are never written by the generator, with any option (tested by
# tests/Generation.Tests: the held-out wordings below stay out of a stream with every option on).
OWN, TEMPLATE, COUNT_ALL, OTHER = "own words", "template", "template with --count-all", "template with --other-wordings"
KINDS = (OWN, TEMPLATE, COUNT_ALL, OTHER)


def answer_kind(answer_id):
    """What kind of answer an answer id is: count, color, shape, or yes/no."""
    return answer_id.split("_")[0] if "_" in answer_id else "yes/no"


def only_one(counts):
    """The first value that occurs exactly once (the one object a question about it names), or None."""
    return next((v for v, m in counts.items() if m == 1), None)


def questions(objects, rnd, extra, third, fourth, fifth, sixth, seventh, eighth):
    """(wording, kind, question, answer) for one scene, where its answer is defined. The second set of own words draws
    from `extra`, so the first set's questions stay those asked before it was added."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    colors = collections.Counter(o["color"] for o in objects)
    out.append(("count all: what is the total number of shapes", OWN, "What is the total number of shapes?", f"count_{n}"))
    out.append(("count all: how many shapes are there", OWN, "How many shapes are there?", f"count_{n}"))
    out.append(("count all: how many objects can you see", COUNT_ALL, "How many objects can you see?", f"count_{n}"))
    out.append(("de: count all: wie viele Formen sind insgesamt zu sehen", OWN, "Wie viele Formen sind insgesamt zu sehen?", f"count_{n}"))
    out.append(("fr: count all: combien de formes compte-t-on au total", OWN, "Combien de formes compte-t-on au total ?", f"count_{n}"))
    out.append(("es: count all: cuántas figuras hay en total", OWN, "¿Cuántas figuras hay en total?", f"count_{n}"))
    out.append(("ja: count all: 図形は全部でいくつ", OWN, "図形は全部でいくつ？", f"count_{n}"))
    c = rnd.choice(COLORS)
    k = colors.get(c, 0)
    out.append(("count colour: how many of the shapes are C", OWN, f"How many of the shapes are {c}?", f"count_{k}"))
    out.append(("count colour: how many C shapes", OWN, f"How many {c} shapes are there?", f"count_{k}"))
    out.append(("count colour: how many C objects", TEMPLATE, f"How many {c} objects are there?", f"count_{k}"))
    # Colour of the one object of a shape, shape of the one object of a colour (the first such, if any).
    asks = (("shape", shapes, "color", (("colour: what is the S's colour", OWN, "What is the {}'s colour?"),
                                        ("colour: what color is the S (US spelling)", OTHER, "What color is the {}?"),
                                        ("colour: what colour is the S", TEMPLATE, "What colour is the {}?"))),
            ("color", colors, "shape", (("shape: which shape is coloured C", OWN, "Which shape is coloured {}?"),
                                        ("shape: what is the C shape", OTHER, "What is the {} shape?"),
                                        ("shape: what shape is the C object", TEMPLATE, "What shape is the {} object?"))))
    for key, counts, asked, wordings in asks:
        value = only_one(counts)
        if value is not None:
            o = next(o for o in objects if o[key] == value)
            for wording, kind, q in wordings:
                out.append((wording, kind, q.format(value), f"{asked}_{o[asked]}"))
            if key == "shape":
                answer = f"color_{o['color']}"
                out.append(("de: colour: in welcher Farbe ist der S gemalt", OWN, f"In welcher Farbe ist {DE[value]} gemalt?", answer))
                out.append(("fr: colour: quelle couleur voit-on sur le S", OWN, f"Quelle couleur voit-on sur {FR[value]} ?", answer))
                out.append(("es: colour: el S es de qué color", OWN, f"¿{ES[value]} es de qué color?", answer))
                out.append(("ja: colour: Sの色は", OWN, f"{JA[value]}の色は？", answer))
    if objects and rnd.random() < 0.5:
        o = rnd.choice(objects); c, s, ans = o["color"], o["shape"], "yes"
    else:
        while True:
            c, s = rnd.choice(COLORS), rnd.choice(SHAPES)
            if not any(o["color"] == c and o["shape"] == s for o in objects):
                break
        ans = "no"
    out.append(("exists: is a C S visible here", OWN, f"Is a {c} {s} visible here?", ans))
    out.append(("exists: is there a C S anywhere", OWN, f"Is there a {c} {s} anywhere?", ans))
    out.append(("exists: do you see a C S in this image", OTHER, f"Do you see a {c} {s} in this image?", ans))
    out.append(("exists: is there a C S", TEMPLATE, f"Is there a {c} {s}?", ans))
    out.extend(second_set(objects, extra))
    out.extend(third_set(objects, third))
    out.extend(fourth_set(objects, fourth))
    out.extend(fifth_set(objects, fifth))
    out.extend(sixth_set(objects, sixth))
    out.extend(seventh_set(objects, seventh))
    out.extend(eighth_set(objects, eighth))
    return out


def shape_to_ask(shapes, rnd):
    """A shape for "is there a ...?" and its answer: half of the scenes are asked about a shape they hold."""
    present = sorted(shapes)
    absent = [x for x in SHAPES if x not in shapes]
    s = rnd.choice(present) if present and (rnd.random() < 0.5 or not absent) else rnd.choice(absent)
    return s, "yes" if s in shapes else "no"


def colour_to_count(objects, rnd):
    """A colour for "how many ... are C?" (any of the eight, so zero counts too) and its answer."""
    c = rnd.choice(COLORS)
    return c, f"count_{sum(o['color'] == c for o in objects)}"


def colour_of_the_one(objects):
    """The shape of which the scene holds exactly one, and that object's colour as the answer; None if there is none."""
    shape = only_one(collections.Counter(o["shape"] for o in objects))
    return None if shape is None else (shape, f"color_{next(o for o in objects if o['shape'] == shape)['color']}")


def shape_of_the_one(objects):
    """The colour of which the scene holds exactly one object, and that object's shape as the answer; None if none."""
    color = only_one(collections.Counter(o["color"] for o in objects))
    return None if color is None else (color, f"shape_{next(o for o in objects if o['color'] == color)['shape']}")


def second_set(objects, rnd):
    """Own words added on 2026-12-05, before the model they first measured was trained: every language words each
    question type a few more ways, so that one wording's swing moves a language's total less."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    count = f"count_{n}"
    out.append(("2 count all: in total, how many shapes do you count", OWN, "In total, how many shapes do you count?", count))
    out.append(("2 ru: count all: сколько всего фигур", OWN, "Сколько всего фигур?", count))
    out.append(("2 zh: count all: 总共有多少个图形", OWN, "总共有多少个图形？", count))
    c, k = colour_to_count(objects, rnd)
    out.append(("2 count colour: what number of shapes are C", OWN, f"What number of shapes are {c}?", k))
    out.append(("2 de: count colour: wie viele Formen sind C", OWN, f"Wie viele Formen sind {DE_C[c]}?", k))
    out.append(("2 fr: count colour: combien de formes sont C", OWN, f"Combien de formes sont {FR_CFP[c]} ?", k))
    out.append(("2 es: count colour: cuántas figuras son C", OWN, f"¿Cuántas figuras son {ES_CFP[c]}?", k))
    out.append(("2 ja: count colour: C図形の個数を数えてください", OWN, f"{JA_C[c]}図形の個数を数えてください。", k))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("2 colour: the S, what colour is it", OWN, f"The {shape} – what colour is it?", a))
        out.append(("2 colour: tell me which colour the S is", OWN, f"Tell me which colour the {shape} is.", a))
        out.append(("2 de: colour: wie ist der S gefärbt", OWN, f"Wie ist {DE[shape]} gefärbt?", a))
        out.append(("2 fr: colour: la couleur du S, c'est laquelle", OWN, f"La couleur {FR_OF[shape]}, c'est laquelle ?", a))
        out.append(("2 es: colour: dime el color del S", OWN, f"Dime el color {ES_OF[shape]}.", a))
        out.append(("2 ja: colour: Sはどんな色ですか", OWN, f"{JA[shape]}はどんな色ですか？", a))
        out.append(("2 ru: colour: какой цвет имеет S", OWN, f"Какой цвет имеет {RU[shape]}?", a))
        out.append(("2 zh: colour: 这个S是什么颜色的", OWN, f"这个{ZH[shape]}是什么颜色的？", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("2 shape: which of the shapes is C", OWN, f"Which of the shapes is {color}?", a))
        out.append(("2 de: shape: welche Figur ist C", OWN, f"Welche Figur ist {DE_C[color]}?", a))
        out.append(("2 fr: shape: quelle forme est C", OWN, f"Quelle forme est {FR_CF[color]} ?", a))
        out.append(("2 es: shape: qué figura es C", OWN, f"¿Qué figura es {ES_CF[color]}?", a))
        out.append(("2 ja: shape: C図形はどんな形をしていますか", OWN, f"{JA_C[color]}図形はどんな形をしていますか？", a))
        out.append(("2 zh: shape: C的那个是什么形状", OWN, f"{ZH_C[color]}的那个是什么形状？", a))
    # Is there a shape (of any colour)? Half of the scenes ask about a shape they hold.
    s, a = shape_to_ask(shapes, rnd)
    out.append(("2 exists: does this image include a S", OWN, f"Does this image include a {s}?", a))
    out.append(("2 de: exists: kommt im Bild ein S vor", OWN, f"Kommt im Bild {DE_A[s]} vor?", a))
    out.append(("2 fr: exists: l'image montre-t-elle un S", OWN, f"L'image montre-t-elle {FR_A[s]} ?", a))
    out.append(("2 es: exists: se ve un S en la imagen", OWN, f"¿Se ve {ES_A[s]} en la imagen?", a))
    out.append(("2 ja: exists: Sは描かれていますか", OWN, f"{JA[s]}は描かれていますか？", a))
    out.append(("2 ru: exists: нарисован ли здесь S", OWN, f"{RU_DRAWN[s]} ли здесь {RU[s]}?", a))
    out.append(("2 zh: exists: 图里能找到S吗", OWN, f"图里能找到{ZH[s]}吗？", a))
    return out


def third_set(objects, rnd):
    """Own words added in the ninth session (2026-12-05), written before the run they first judged was measured: casual
    and inverted frames, words inserted into familiar ones ("eigentlich", "for me"), imperatives, questions that end in
    their type word. Drawn from its own random stream, so the first two sets ask what they asked before."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    count = f"count_{n}"
    out.append(("3 count all: count all the shapes for me", OWN, "Count all the shapes for me.", count))
    out.append(("3 count all: how many figures are in the picture", OWN, "How many figures are in the picture?", count))
    out.append(("3 fr: count all: il y a combien de formes en tout", OWN, "Il y a combien de formes en tout ?", count))
    out.append(("3 es: count all: cuántas figuras se pueden contar", OWN, "¿Cuántas figuras se pueden contar?", count))
    out.append(("3 ja: count all: 全部で何個の図形が見えますか", OWN, "全部で何個の図形が見えますか？", count))
    out.append(("3 ru: count all: посчитай, сколько тут фигур", OWN, "Посчитай, сколько тут фигур.", count))
    out.append(("3 zh: count all: 图里一共画了多少个图形", OWN, "图里一共画了多少个图形？", count))
    c, k = colour_to_count(objects, rnd)
    out.append(("3 count colour: how many things here are C", OWN, f"How many things here are {c}?", k))
    out.append(("3 de: count colour: zähl mal die C Formen", OWN, f"Zähl mal die {DE_CEN[c]} Formen.", k))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("3 colour: any idea what colour the S is", OWN, f"Any idea what colour the {shape} is?", a))
        out.append(("3 colour: what's the colour of the S", OWN, f"What's the colour of the {shape}?", a))
        out.append(("3 de: colour: welche Farbe hat eigentlich der S", OWN, f"Welche Farbe hat eigentlich {DE[shape]}?", a))
        out.append(("3 fr: colour: c'est quoi, la couleur du S", OWN, f"C'est quoi, la couleur {FR_OF[shape]} ?", a))
        out.append(("3 es: colour: me dices de qué color es el S", OWN, f"¿Me dices de qué color es {ES_L[shape]}?", a))
        out.append(("3 ja: colour: S、何色", OWN, f"{JA[shape]}、何色？", a))
        out.append(("3 ru: colour: а S какого цвета", OWN, f"А {RU[shape]} какого цвета?", a))
        out.append(("3 zh: colour: S是啥颜色", OWN, f"{ZH[shape]}是啥颜色？", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("3 shape: name the shape that is C", OWN, f"Name the shape that is {color}.", a))
        out.append(("3 shape: the C one is which shape", OWN, f"The {color} one is which shape?", a))
        out.append(("3 de: shape: die C Figur hat welche Form", OWN, f"Die {DE_CE[color]} Figur hat welche Form?", a))
        out.append(("3 fr: shape: dis-moi la forme de la figure C", OWN, f"Dis-moi la forme de la figure {FR_CF[color]}.", a))
        out.append(("3 es: shape: qué tipo de forma tiene la figura C", OWN, f"¿Qué tipo de forma tiene la figura {ES_CF[color]}?", a))
        out.append(("3 ja: shape: Cのはどの形", OWN, f"{JA_C[color]}のはどの形？", a))
        out.append(("3 ru: shape: C фигура — это какая форма", OWN, f"{RU_CF[color].capitalize()} фигура — это какая форма?", a))
        out.append(("3 zh: shape: C那个图形是啥形状", OWN, f"{ZH_C[color]}那个图形是啥形状？", a))
    s, a = shape_to_ask(shapes, rnd)
    out.append(("3 exists: is a S somewhere in this picture", OWN, f"Is a {s} somewhere in this picture?", a))
    out.append(("3 exists: is there any S in the picture", OWN, f"Is there any {s} in the picture?", a))
    out.append(("3 de: exists: ist auf dem Bild ein S zu sehen", OWN, f"Ist auf dem Bild {DE_A[s]} zu sehen?", a))
    out.append(("3 fr: exists: on voit un S quelque part", OWN, f"On voit {FR_A[s]} quelque part ?", a))
    out.append(("3 es: exists: puedes encontrar un S", OWN, f"¿Puedes encontrar {ES_A[s]}?", a))
    out.append(("3 ja: exists: この絵にSはある", OWN, f"この絵に{JA[s]}はある？", a))
    out.append(("3 ru: exists: тут есть S", OWN, f"Тут есть {RU[s]}?", a))
    out.append(("3 zh: exists: S在不在图里", OWN, f"{ZH[s]}在不在图里？", a))
    return out


# The fourth set's nouns, keyed by name (the generator's own words for the shapes and colours of each language).
KO = {"circle": "원", "square": "정사각형", "triangle": "삼각형", "star": "별", "heart": "하트", "cross": "십자형", "diamond": "마름모", "hexagon": "육각형"}
KO_C = {"red": "빨간", "orange": "주황색", "yellow": "노란", "green": "초록색", "blue": "파란", "purple": "보라색", "pink": "분홍색", "black": "검은"}
AR = {"circle": "الدائرة", "square": "المربع", "triangle": "المثلث", "star": "النجمة", "heart": "القلب", "cross": "الصليب", "diamond": "المعين", "hexagon": "المضلع السداسي"}
AR_FEM = {"circle", "star"}
AR_SEE = {"circle": "دائرة", "square": "مربعا", "triangle": "مثلثا", "star": "نجمة", "heart": "قلبا", "cross": "صليبا", "diamond": "معينا", "hexagon": "مضلعا سداسيا"}
AR_COLOUR = {"red": "الأحمر", "orange": "البرتقالي", "yellow": "الأصفر", "green": "الأخضر", "blue": "الأزرق", "purple": "البنفسجي", "pink": "الوردي", "black": "الأسود"}
HE = {"circle": "עיגול", "square": "ריבוע", "triangle": "משולש", "star": "כוכב", "heart": "לב", "cross": "צלב", "diamond": "מעוין", "hexagon": "משושה"}
HE_C = {"red": "אדום", "orange": "כתום", "yellow": "צהוב", "green": "ירוק", "blue": "כחול", "purple": "סגול", "pink": "ורוד", "black": "שחור"}
HI = {"circle": "वृत्त", "square": "वर्ग", "triangle": "त्रिभुज", "star": "तारा", "heart": "दिल", "cross": "क्रॉस", "diamond": "हीरा", "hexagon": "षट्भुज"}
HI_C = {"red": "लाल", "orange": "नारंगी", "yellow": "पीले", "green": "हरे", "blue": "नीले", "purple": "बैंगनी", "pink": "गुलाबी", "black": "काले"}
TH = {"circle": "วงกลม", "square": "สี่เหลี่ยมจัตุรัส", "triangle": "สามเหลี่ยม", "star": "ดาว", "heart": "หัวใจ", "cross": "กากบาท", "diamond": "สี่เหลี่ยมขนมเปียกปูน", "hexagon": "หกเหลี่ยม"}
TH_C = {"red": "สีแดง", "orange": "สีส้ม", "yellow": "สีเหลือง", "green": "สีเขียว", "blue": "สีน้ำเงิน", "purple": "สีม่วง", "pink": "สีชมพู", "black": "สีดำ"}


def fourth_set(objects, rnd):
    """Own words added in the tenth session (2026-12-05), written before the run they first judged was measured, in the
    five languages the first three sets left out (Korean, Arabic, Hebrew, Hindi, Thai): casual endings, a topic put
    first, "the C one", "in total". Drawn from its own random stream, so the first three sets ask what they asked."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    count = f"count_{n}"
    out.append(("4 ko: count all: 도형이 전부 몇 개예요", OWN, "도형이 전부 몇 개예요?", count))
    out.append(("4 ar: count all: كم شكلا ترى إجمالا", OWN, "كم شكلاً ترى إجمالاً؟", count))
    out.append(("4 he: count all: כמה צורות יש בסך הכול", OWN, "כמה צורות יש בסך הכול?", count))
    out.append(("4 hi: count all: कुल मिलाकर कितनी आकृतियाँ हैं", OWN, "कुल मिलाकर कितनी आकृतियाँ हैं?", count))
    out.append(("4 th: count all: รวมแล้วมีรูปทรงกี่อัน", OWN, "รวมแล้วมีรูปทรงกี่อัน", count))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("4 ko: colour: S 색깔이 뭐예요", OWN, f"{KO[shape]} 색깔이 뭐예요?", a))
        if shape in AR_FEM:  # "its colour" agrees with the noun: لونها after a feminine one, لونه after a masculine one
            out.append(("4 ar: colour: S، ما لونه", OWN, f"{AR[shape]}، ما لونها؟", a))
        else:
            out.append(("4 ar: colour: S، ما لونه", OWN, f"{AR[shape]}، ما لونه؟", a))
        out.append(("4 he: colour: ה-S – איזה צבע הוא", OWN, f"ה{HE[shape]} – איזה צבע הוא?", a))
        out.append(("4 hi: colour: S का रंग कौन सा है", OWN, f"{HI[shape]} का रंग कौन सा है?", a))
        out.append(("4 th: colour: Sนี่สีอะไรนะ", OWN, f"{TH[shape]}นี่สีอะไรนะ", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("4 ko: shape: C 건 어떤 모양이에요", OWN, f"{KO_C[color]} 건 어떤 모양이에요?", a))
        out.append(("4 ar: shape: ما هو الشكل ذو اللون C", OWN, f"ما هو الشكل ذو اللون {AR_COLOUR[color]}؟", a))
        out.append(("4 he: shape: לאיזו צורה יש צבע C", OWN, f"לאיזו צורה יש צבע {HE_C[color]}?", a))
        out.append(("4 hi: shape: C रंग वाली आकृति कौन सी है", OWN, f"{HI_C[color]} रंग वाली आकृति कौन सी है?", a))
        out.append(("4 th: shape: อันที่เป็นCคือรูปอะไร", OWN, f"อันที่เป็น{TH_C[color]}คือรูปอะไร", a))
    s, a = shape_to_ask(shapes, rnd)
    out.append(("4 ko: exists: S 보여요", OWN, f"{KO[s]} 보여요?", a))
    out.append(("4 ar: exists: هل ترى S", OWN, f"هل ترى {AR_SEE[s]}؟", a))
    out.append(("4 he: exists: רואים פה S", OWN, f"רואים פה {HE[s]}?", a))
    out.append(("4 hi: exists: यहाँ कोई S दिख रहा है", OWN, f"यहाँ कोई {HI[s]} दिख रहा है?", a))
    out.append(("4 th: exists: เจอSบ้างไหม", OWN, f"เจอ{TH[s]}บ้างไหม", a))
    return out


# The fifth set's nouns (2026-12-06, eleventh session).
DE_ACC = dict(zip(SHAPES, ["einen Kreis", "ein Quadrat", "ein Dreieck", "einen Stern", "ein Herz", "ein Kreuz", "eine Raute", "ein Sechseck"]))
RU_CG = dict(zip(COLORS, ["красной", "оранжевой", "жёлтой", "зелёной", "синей", "фиолетовой", "розовой", "чёрной"]))
AR_A = {"circle": "دائرة", "square": "مربع", "triangle": "مثلث", "star": "نجمة", "heart": "قلب", "cross": "صليب", "diamond": "معين", "hexagon": "مضلع سداسي"}


def fifth_set(objects, rnd):
    """Own words added in the eleventh session (2026-12-06), written before the generator's change of that session and
    before the run it judged: two wordings in each of the 12 languages, of every kind. None asks with the colour as the
    predicate ("which shape is red", "how many shapes are blue"): that session taught the generator such frames, so this
    set measures what carries over to frames the generator was not changed for. Its own random stream (seed + 4)."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    count = f"count_{n}"
    out.append(("5 count all: how many shapes appear in this image", OWN, "How many shapes appear in this image?", count))
    out.append(("5 de: count all: aus wie vielen Formen besteht das Bild", OWN, "Aus wie vielen Formen besteht das Bild?", count))
    out.append(("5 es: count all: cuántas formas aparecen en la imagen", OWN, "¿Cuántas formas aparecen en la imagen?", count))
    out.append(("5 ru: count all: сколько фигур ты насчитал", OWN, "Сколько фигур ты насчитал?", count))
    out.append(("5 he: count all: כמה צורות מופיעות בתמונה", OWN, "כמה צורות מופיעות בתמונה?", count))
    out.append(("5 th: count all: นับได้กี่รูปทรง", OWN, "นับได้กี่รูปทรง", count))
    c, k = colour_to_count(objects, rnd)
    out.append(("5 ko: count colour: C 도형은 몇 개야", OWN, f"{KO_C[c]} 도형은 몇 개야?", k))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("5 fr: colour: tu saurais dire la couleur du S", OWN, f"Tu saurais dire la couleur {FR_OF[shape]} ?", a))
        out.append(("5 ja: colour: Sって何色", OWN, f"{JA[shape]}って何色？", a))
        out.append(("5 zh: colour: S涂的是什么颜色", OWN, f"{ZH[shape]}涂的是什么颜色？", a))
        out.append(("5 ar: colour: ما اللون الذي تراه على S", OWN, f"ما اللون الذي تراه على {AR[shape]}؟", a))
        out.append(("5 he: colour: מה צבעו של ה-S", OWN, f"מה צבעו של ה{HE[shape]}?", a))
        out.append(("5 hi: colour: S किस रंग में रंगा है", OWN, f"{HI[shape]} किस रंग में रंगा है?", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("5 shape: what sort of shape is the C thing", OWN, f"What sort of shape is the {color} thing?", a))
        out.append(("5 es: shape: la figura C tiene forma de qué", OWN, f"¿La figura {ES_CF[color]} tiene forma de qué?", a))
        out.append(("5 ru: shape: назови форму C фигуры", OWN, f"Назови форму {RU_CG[color]} фигуры.", a))
        out.append(("5 ko: shape: C 도형은 무슨 모양이야", OWN, f"{KO_C[color]} 도형은 무슨 모양이야?", a))
        out.append(("5 th: shape: ชิ้นCรูปร่างเป็นยังไง", OWN, f"ชิ้น{TH_C[color]}รูปร่างเป็นยังไง", a))
    s, a = shape_to_ask(shapes, rnd)
    out.append(("5 de: exists: entdeckst du irgendwo einen S", OWN, f"Entdeckst du irgendwo {DE_ACC[s]}?", a))
    out.append(("5 fr: exists: est-ce qu'on aperçoit un S", OWN, f"Est-ce qu'on aperçoit {FR_A[s]} ?", a))
    out.append(("5 ja: exists: Sは見当たりますか", OWN, f"{JA[s]}は見当たりますか？", a))
    out.append(("5 zh: exists: 画面上出现S了吗", OWN, f"画面上出现{ZH[s]}了吗？", a))
    out.append(("5 ar: exists: أيوجد في الصورة S", OWN, f"أيوجد في الصورة {AR_A[s]}؟", a))
    out.append(("5 hi: exists: चित्र में कहीं S बना है क्या", OWN, f"चित्र में कहीं {HI[s]} बना है क्या?", a))
    return out


# The sixth set's words (2026-12-06, twelfth session).
RU_CGP = dict(zip(COLORS, ["красных", "оранжевых", "жёлтых", "зелёных", "синих", "фиолетовых", "розовых", "чёрных"]))


def sixth_set(objects, rnd):
    """Own words added in the twelfth session (2026-12-06), written before the run they first judged (the first trained
    with `--rare-words`) had been measured: two wordings in each of the 12 languages, of every kind. Its own random
    stream (seed + 5)."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    count = f"count_{n}"
    out.append(("6 de: count all: wie viele Formen zählst du", OWN, "Wie viele Formen zählst du?", count))
    out.append(("6 he: count all: כמה צורות ציירו כאן", OWN, "כמה צורות ציירו כאן?", count))
    out.append(("6 ja: count all: いくつの図形が描かれていますか", OWN, "いくつの図形が描かれていますか？", count))
    c, k = colour_to_count(objects, rnd)
    out.append(("6 fr: count colour: combien tu vois de formes C", OWN, f"Combien tu vois de formes {FR_CFP[c]} ?", k))
    out.append(("6 ru: count colour: сколько здесь C фигур", OWN, f"Сколько здесь {RU_CGP[c]} фигур?", k))
    out.append(("6 ar: count colour: كم عدد الأشكال ذات اللون C", OWN, f"كم عدد الأشكال ذات اللون {AR_COLOUR[c]}؟", k))
    out.append(("6 hi: count colour: C रंग की कितनी आकृतियाँ हैं", OWN, f"{HI_C[c]} रंग की कितनी आकृतियाँ हैं?", k))
    out.append(("6 zh: count colour: 画了几个C的图形", OWN, f"画了几个{ZH_C[c]}的图形？", k))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("6 de: colour: wie sieht der S farblich aus", OWN, f"Wie sieht {DE[shape]} farblich aus?", a))
        out.append(("6 es: colour: y el S, de qué color es", OWN, f"¿Y {ES_L[shape]}, de qué color es?", a))
        out.append(("6 ru: colour: S тут в каком цвете", OWN, f"{RU[shape].capitalize()} тут в каком цвете?", a))
        out.append(("6 th: colour: อยากรู้ว่าSสีอะไร", OWN, f"อยากรู้ว่า{TH[shape]}สีอะไร", a))
        out.append(("6 ko: colour: S 색이 어떻게 돼요", OWN, f"{KO[shape]} 색이 어떻게 돼요?", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("6 shape: what's the shape of the C one", OWN, f"What's the shape of the {color} one?", a))
        out.append(("6 fr: shape: la figure C, elle a quelle forme", OWN, f"La figure {FR_CF[color]}, elle a quelle forme ?", a))
        out.append(("6 he: shape: מה צורתו של הפריט ה-C", OWN, f"מה צורתו של הפריט ה{HE_C[color]}?", a))
        out.append(("6 hi: shape: C रंग की आकृति का आकार क्या है", OWN, f"{HI_C[color]} रंग की आकृति का आकार क्या है?", a))
        out.append(("6 zh: shape: C图形长什么样", OWN, f"{ZH_C[color]}图形长什么样？", a))
    s, a = shape_to_ask(shapes, rnd)
    out.append(("6 exists: is any S drawn here", OWN, f"Is any {s} drawn here?", a))
    out.append(("6 es: exists: aparece S en alguna parte", OWN, f"¿Aparece {ES_A[s]} en alguna parte?", a))
    out.append(("6 ar: exists: هل يمكن رؤية S هنا", OWN, f"هل يمكن رؤية {AR_A[s]} هنا؟", a))
    out.append(("6 th: exists: ในภาพมีSอยู่ไหม", OWN, f"ในภาพมี{TH[s]}อยู่ไหม", a))
    out.append(("6 ja: exists: Sはどこかにありますか", OWN, f"{JA[s]}はどこかにありますか？", a))
    out.append(("6 ko: exists: 그림에 S 있나요", OWN, f"그림에 {KO[s]} 있나요?", a))
    return out


# The seventh set's words (2026-12-06, thirteenth session).
ES_CM = dict(zip(COLORS, ["rojo", "naranja", "amarillo", "verde", "azul", "morado", "rosa", "negro"]))
HI_OBL = {**HI, "star": "तारे", "diamond": "हीरे"}  # the oblique case before का


def seventh_set(objects, rnd):
    """Own words added in the thirteenth session (2026-12-06), written while the run they first judged (the first trained
    with `--count-distractors`) was under way and before anything of it had been measured: two wordings in each of the
    12 languages, of every kind. Its own random stream (seed + 6)."""
    out = []
    n = len(objects)
    shapes = collections.Counter(o["shape"] for o in objects)
    count = f"count_{n}"
    out.append(("7 count all: how many shapes have been drawn", OWN, "How many shapes have been drawn?", count))
    out.append(("7 es: count all: cuántas figuras ves en total", OWN, "¿Cuántas figuras ves en total?", count))
    out.append(("7 ko: count all: 도형이 몇 개 그려져 있어요", OWN, "도형이 몇 개 그려져 있어요?", count))
    out.append(("7 he: count all: כמה צורות רואים בתמונה", OWN, "כמה צורות רואים בתמונה?", count))
    c, k = colour_to_count(objects, rnd)
    out.append(("7 de: count colour: wie viele C Formen gibt es hier", OWN, f"Wie viele {DE_CE[c]} Formen gibt es hier?", k))
    out.append(("7 ja: count colour: C図形を数えるといくつになりますか", OWN, f"{JA_C[c]}図形を数えるといくつになりますか？", k))
    out.append(("7 zh: count colour: 一共有几个C图形", OWN, f"一共有几个{ZH_C[c]}图形？", k))
    out.append(("7 hi: count colour: तस्वीर में C रंग वाली कितनी आकृतियाँ हैं", OWN, f"तस्वीर में {HI_C[c]} रंग वाली कितनी आकृतियाँ हैं?", k))
    out.append(("7 th: count colour: มีรูปทรงCกี่อัน", OWN, f"มีรูปทรง{TH_C[c]}กี่อัน", k))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("7 fr: colour: j'aimerais connaître la couleur du S", OWN, f"J'aimerais connaître la couleur {FR_OF[shape]}.", a))
        out.append(("7 zh: colour: S用的是哪种颜色", OWN, f"{ZH[shape]}用的是哪种颜色？", a))
        out.append(("7 ar: colour: أخبرني بلون S", OWN, f"أخبرني بلون {AR[shape]}", a))
        out.append(("7 hi: colour: S का रंग पहचानिए", OWN, f"{HI_OBL[shape]} का रंग पहचानिए", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("7 shape: what shape has the colour C", OWN, f"What shape has the colour {color}?", a))
        out.append(("7 es: shape: qué forma tiene la figura de color C", OWN, f"¿Qué forma tiene la figura de color {ES_CM[color]}?", a))
        out.append(("7 ja: shape: C図形の形を教えてください", OWN, f"{JA_C[color]}図形の形を教えてください", a))
        out.append(("7 ru: shape: а C фигура какой формы", OWN, f"А {RU_CF[color]} фигура какой формы?", a))
        out.append(("7 th: shape: รูปทรงCมีรูปร่างแบบไหน", OWN, f"รูปทรง{TH_C[color]}มีรูปร่างแบบไหน", a))
    s, a = shape_to_ask(shapes, rnd)
    out.append(("7 de: exists: ist da S drauf", OWN, f"Ist da {DE_A[s]} drauf?", a))
    out.append(("7 fr: exists: tu trouves S sur l'image", OWN, f"Tu trouves {FR_A[s]} sur l'image ?", a))
    out.append(("7 ru: exists: найдётся ли тут S", OWN, f"Найдётся ли тут {RU[s]}?", a))
    out.append(("7 ko: exists: S 있는지 알려 주세요", OWN, f"{KO[s]} 있는지 알려 주세요", a))
    out.append(("7 ar: exists: هل تحتوي الصورة على S", OWN, f"هل تحتوي الصورة على {AR_A[s]}؟", a))
    out.append(("7 he: exists: האם מופיע S בתמונה", OWN, f"האם מופיע {HE[s]} בתמונה?", a))
    return out


def eighth_set(objects, rnd):
    """Own words added in the fourteenth session (2026-12-06), written while the run they first judged (a CPU run on from
    the first GPU-trained model) was under way and before anything of it had been measured: two wordings in each of
    the 12 languages, of every kind. Its own random stream (seed + 7). Two of its first wordings repeated the third set's
    ("Il y a combien de formes en tout ?", "¿Me dices de qué color es el S?") and were replaced in the fifteenth session
    (the Generation test Own_wordings_of_the_paraphrase_check_are_all_different)."""
    out = []
    count = f"count_{len(objects)}"
    shapes = collections.Counter(o["shape"] for o in objects)
    out.append(("8 count all: could you count the shapes in this picture", OWN, "Could you count the shapes in this picture?", count))
    out.append(("8 fr: count all: tu vois combien de formes dans ce dessin", OWN, "Tu vois combien de formes dans ce dessin ?", count))
    out.append(("8 ja: count all: 図形は合わせていくつですか", OWN, "図形は合わせていくつですか？", count))
    out.append(("8 ar: count all: كم شكلا في هذه الصورة", OWN, "كم شكلا في هذه الصورة؟", count))
    out.append(("8 hi: count all: इस चित्र में कुल कितनी आकृतियाँ बनी हैं", OWN, "इस चित्र में कुल कितनी आकृतियाँ बनी हैं?", count))
    c, k = colour_to_count(objects, rnd)
    out.append(("8 de: count colour: wie viele Figuren sind C gefärbt", OWN, f"Wie viele Figuren sind {DE_C[c]} gefärbt?", k))
    out.append(("8 es: count colour: cuántas figuras C aparecen", OWN, f"¿Cuántas figuras {ES_CFP[c]} aparecen?", k))
    out.append(("8 ru: count colour: сколько тут C фигур", OWN, f"Сколько тут {RU_CGP[c]} фигур?", k))
    out.append(("8 ko: count colour: C 도형은 모두 몇 개예요", OWN, f"{KO_C[c]} 도형은 모두 몇 개예요?", k))
    out.append(("8 he: count colour: כמה צורות Cות יש בציור", OWN, f"כמה צורות {HE_C[c]}ות יש בציור?", k))
    out.append(("8 th: count colour: ในภาพมีรูปCอยู่กี่รูป", OWN, f"ในภาพมีรูป{TH_C[c]}อยู่กี่รูป", k))
    if (one := colour_of_the_one(objects)) is not None:
        shape, a = one
        out.append(("8 es: colour: de qué color han pintado el S", OWN, f"¿De qué color han pintado {ES_L[shape]}?", a))
        out.append(("8 ru: colour: какого цвета здесь S", OWN, f"Какого цвета здесь {RU[shape]}?", a))
        out.append(("8 ko: colour: S의 색깔을 알려 주세요", OWN, f"{KO[shape]}의 색깔을 알려 주세요", a))
        out.append(("8 th: colour: อยากรู้ว่าSเป็นสีอะไร", OWN, f"อยากรู้ว่า{TH[shape]}เป็นสีอะไร", a))
    if (one := shape_of_the_one(objects)) is not None:
        color, a = one
        out.append(("8 shape: tell me the shape of the C one", OWN, f"Tell me the shape of the {color} one.", a))
        out.append(("8 de: shape: welche Form hat das C Teil", OWN, f"Welche Form hat das {DE_CE[color]} Teil?", a))
        out.append(("8 zh: shape: C的那个是什么图形", OWN, f"{ZH_C[color]}的那个是什么图形？", a))
        out.append(("8 ar: shape: أي شكل يحمل اللون C", OWN, f"أي شكل يحمل اللون {AR_COLOUR[color]}؟", a))
    s, a = shape_to_ask(shapes, rnd)
    out.append(("8 fr: exists: est-ce qu'on voit S quelque part", OWN, f"Est-ce qu'on voit {FR_A[s]} quelque part ?", a))
    out.append(("8 ja: exists: Sは見つかりますか", OWN, f"{JA[s]}は見つかりますか？", a))
    out.append(("8 zh: exists: 图中能找到S吗", OWN, f"图中能找到{ZH[s]}吗？", a))
    out.append(("8 he: exists: יש פה S", OWN, f"יש פה {HE[s]}?", a))
    out.append(("8 hi: exists: क्या चित्र में कहीं S है", OWN, f"क्या चित्र में कहीं {HI[s]} है?", a))
    return out


def held_out_scenes(seed, count, size=128):
    """(objects, PNG bytes) of `count` held-out scenes of 1-3 shapes without emoji, drawn by `vqa-generate preview`
    (built in Release) with `seed`: the scenes every check in this folder asks its questions about."""
    tmp = tempfile.mkdtemp(prefix="held-out-scenes-")
    subprocess.run(["dotnet", GENERATOR, "preview", "--split", "heldout", "--seed", str(seed), "--size", str(size), "--mix", "vqa=1",
                    "--objects", "1-3", "--emoji-share", "0", "--languages", "en", "--count", str(count), "--out", tmp],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "examples.jsonl")) as f:
        for line in f:
            ex = json.loads(line)
            with open(os.path.join(tmp, f"{ex['index']:04d}-scene.png"), "rb") as g:
                yield ex["objects"], g.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5000")
    ap.add_argument("--scenes", type=int, default=150)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--out", help="write the results as JSON")
    ap.add_argument("--answer-kinds", action="store_true",
                    help="also print, for each own wording, how its answers went: right, a wrong answer of the right kind, or "
                         "an answer of another kind (a colour to an existence question): what a model takes the frame for")
    a = ap.parse_args()
    rnd, extra, third, fourth, fifth, sixth, seventh, eighth = (random.Random(a.seed + k) for k in range(8))
    right, total, kinds = collections.Counter(), collections.Counter(), {}
    outcomes = collections.defaultdict(collections.Counter)  # wording -> right / wrong value / answered a <kind>
    for objects, png in held_out_scenes(a.seed, a.scenes, a.size):
        for wording, k, q, answer in questions(objects, rnd, extra, third, fourth, fifth, sixth, seventh, eighth):
            kinds[wording] = k
            total[wording] += 1
            got = ask(a.url, png, q)
            right[wording] += got == answer
            outcomes[wording]["right" if got == answer else "wrong value" if answer_kind(got) == answer_kind(answer)
                              else f"answered a {answer_kind(got)}"] += 1
    rows = sorted(total)
    print(f"| wording (English unless marked; held-out scenes of 1-3 shapes, seed {a.seed}) | what writes it | accuracy | n |")
    print("|---|---|---:|---:|")
    for w in rows:
        print(f"| {w} | {kinds[w]} | {100 * right[w] / total[w]:.1f}% | {total[w]} |")
    def parts(w):
        """A wording's name as (set 1-4, language, the rest): "2 de: colour: ..." -> (2, "de", "colour: ...")."""
        n = int(w[0]) if w[:2] in ("2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ") else 1
        w = w[2:] if n > 1 else w
        return (n, w[:2], w[4:]) if w[2:4] == ": " else (n, "en", w)
    def language(w):
        return parts(w)[1]
    def in_set(w, *sets):
        return parts(w)[0] in sets
    def asks(w):
        """What a wording asks: count (of all or by colour), colour, shape or exists."""
        return parts(w)[2].split()[0].rstrip(":")
    own = lambda w: kinds[w] == OWN
    groups = [(name, lambda w, name=name: kinds[w] == name) for name in KINDS]
    groups[1:1] = [
        ("own words in English", lambda w: own(w) and language(w) == "en"),
        ("own words in other languages (de, fr, es, ja, ru, zh)", lambda w: own(w) and language(w) in ("de", "fr", "es", "ja", "ru", "zh")),
        ("own words in the fourth set's languages (ko, ar, he, hi, th)", lambda w: own(w) and language(w) in ("ko", "ar", "he", "hi", "th")),
        ("own words, first set (as reported before 2026-12-05)", lambda w: own(w) and in_set(w, 1)),
        ("own words, first set, English", lambda w: own(w) and in_set(w, 1) and language(w) == "en"),
        ("own words, first set, German, French, Spanish, Japanese", lambda w: own(w) and in_set(w, 1) and language(w) != "en"),
        ("own words, second set (2026-12-05)", lambda w: own(w) and in_set(w, 2)),
        ("own words, third set (2026-12-05, ninth session)", lambda w: own(w) and in_set(w, 3)),
        ("own words, fourth set (2026-12-05, tenth session)", lambda w: own(w) and in_set(w, 4)),
        ("own words, fifth set (2026-12-06, eleventh session)", lambda w: own(w) and in_set(w, 5)),
        ("own words, sixth set (2026-12-06, twelfth session)", lambda w: own(w) and in_set(w, 6)),
        ("own words, seventh set (2026-12-06, thirteenth session)", lambda w: own(w) and in_set(w, 7)),
        ("own words, eighth set (2026-12-06, fourteenth session)", lambda w: own(w) and in_set(w, 8)),
        ("own words, first seven sets (as reported before the fourteenth session)", lambda w: own(w) and in_set(w, 1, 2, 3, 4, 5, 6, 7)),
        ("own words, first six sets (as reported before the thirteenth session)", lambda w: own(w) and in_set(w, 1, 2, 3, 4, 5, 6)),
        ("own words, first five sets (as reported before the twelfth session)", lambda w: own(w) and in_set(w, 1, 2, 3, 4, 5)),
        ("own words, first four sets (as reported before the eleventh session)", lambda w: own(w) and in_set(w, 1, 2, 3, 4)),
        ("own words, first and second sets", lambda w: own(w) and in_set(w, 1, 2)),
        ("own words, first three sets (as reported before the tenth session)", lambda w: own(w) and in_set(w, 1, 2, 3)),
    ]
    groups += [(f"own words, {lang}", lambda w, lang=lang: own(w) and language(w) == lang) for lang in ("en", "de", "fr", "es", "ja", "ru", "zh", "ko", "ar", "he", "hi", "th")]
    groups += [(f"own words, {t} questions", lambda w, t=t: own(w) and asks(w) == t) for t in ("count", "colour", "shape", "exists")]
    for name, member in groups:
        ws = [w for w in rows if member(w)]
        r, t = sum(right[w] for w in ws), sum(total[w] for w in ws)
        if t:
            print(f"| **all, {name}** | | **{100 * r / t:.1f}%** | {t} |")
    print(f"| **all questions** | | **{100 * sum(right.values()) / sum(total.values()):.1f}%** | {sum(total.values())} |")
    if a.answer_kinds:
        print()
        print("| own wording | n | how the answers went |")
        print("|---|---:|---|")
        for w in rows:
            if own(w):
                print(f"| {w} | {total[w]} | " + ", ".join(f"{k} {v}" for k, v in outcomes[w].most_common()) + " |")
        summed = sum((outcomes[w] for w in rows if own(w)), collections.Counter())
        other_kind = sum(v for k, v in summed.items() if k.startswith("answered a "))
        print(f"| **all own wordings** | {sum(total[w] for w in rows if own(w))} | " + ", ".join(f"{k} {v}" for k, v in summed.most_common())
              + f"; an answer of another kind {other_kind} in all |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({w: {"kind": kinds[w], "right": right[w], "n": total[w], **({"answers": dict(outcomes[w])} if a.answer_kinds else {})}
                       for w in rows}, f, indent=1)


if __name__ == "__main__":
    main()
