// Builds lexicon/emoji.json from the npm package cldr-annotations-full.
//
//   mkdir /tmp/cldr && cd /tmp/cldr && npm pack cldr-annotations-full && tar xzf cldr-annotations-full-*.tgz
//   node Generation/lexicon/build-emoji.mjs /tmp/cldr/package > Generation/lexicon/emoji.json
//
// The chosen emoji are the curated list below (objects for synthetic scenes: animals, plants, fruit, food,
// vehicles, things). An emoji is kept only when every core language has a CLDR short name ("tts") for it.
// Names are taken from every base locale of the package (regional sub-locales only where no base locale exists).
// Rendering in fonts/NotoColorEmoji.ttf is checked by tests/Generation.Tests (EmojiCatalogTests); emoji the font
// lacks were removed from the list.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2];
if (!root) {
  console.error("usage: node build-emoji.mjs <path to the unpacked cldr-annotations-full package>");
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const annotationsDir = join(root, "annotations");

const CORE = ["en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko"];

// Curated, grouped. Lookup in CLDR is by the text without U+FE0F; text-default code points get U+FE0F appended.
const GROUPS = {
  animal: "🐒🦍🐕🐩🐺🦊🦝🐈🦁🐅🐆🐎🦄🦓🦌🦬🐄🐂🐃🐖🐗🐏🐑🐐🐪🐫🦙🦒🐘🦣🦏🦛🐁🐀🐹🐇🐿🦫🦔🦇🐻🐨🐼🦥🦦🦨🦘🦡🦃🐓🐤🐦🐧🕊🦅🦆🦢🦉🦤🦩🦚🦜🐸🐊🐢🦎🐍🐉🦕🦖🐳🐋🐬🦭🐟🐠🐡🦈🐙🐚🦀🦞🦐🦑🦪🐌🦋🐛🐜🐝🪲🐞🦗🕷🦂🪱",
  plant: "💐🌸🌹🌺🌻🌼🌷🌱🪴🌲🌳🌴🌵🌾🌿☘🍀🍁🍂🍃🍄",
  fruit: "🍇🍈🍉🍊🍋🍌🍍🥭🍎🍏🍐🍑🍒🍓🫐🥝🍅🫒🥥🥑🍆🥔🥕🌽🌶🫑🥒🥬🥦🧄🧅🥜🌰",
  food: "🍞🥐🥖🥨🥯🥞🧇🧀🍖🍗🥩🥓🍔🍟🍕🌭🥪🌮🌯🥙🥚🍳🥘🍲🥣🥗🍿🧈🧂🥫🍱🍘🍙🍚🍛🍜🍝🍠🍢🍣🍤🍥🥮🍡🥟🥠🥡🍦🍧🍨🍩🍪🎂🍰🧁🥧🍫🍬🍭🍮🍯🍼🥛☕🫖🍵🍶🍾🍷🍸🍹🍺🥃🥤🧋🧃🧉🧊🥢🍽🍴🥄",
  vehicle: "🚂🚃🚄🚅🚆🚇🚈🚊🚝🚞🚋🚌🚎🚐🚑🚒🚓🚕🚗🚙🛻🚚🚛🚜🏎🏍🛵🛺🚲🛴🛹🛼🚨🚦🛑🚧⚓🛟⛵🛶🚤🛳⛴🛥🚢✈🛩🪂🚁🚟🚠🚡🛰🚀🛸",
  object: "⌛⏰⏱🕰🌂☂⛱⚡❄⛄🔥💧🎈🎁🎃🎄🎆🧨✨🎀🏆🏅⚽⚾🥎🏀🏐🏈🏉🎾🥏🎳🏏🏑🏒🥍🏓🏸🥊🥋🥅⛳⛸🎣🤿🎽🎿🛷🥌🎯🪀🪁🎱🔮🪄🎮🕹🎲🧩🧸🪅🪆♟🃏🀄🎭🖼🎨🧵🪡🧶🪢👓🕶🥽🥼🦺👔👕👖🧣🧤🧥🧦👗👘🥻🩱🩳👙👛👜🛍🎒🩴👞👟🥾🥿👠👡🩰👢👑👒🎩🎓🧢🪖⛑💄💍💎🔔🎤🎧📻🎷🪗🎸🎹🎺🎻🪕🥁🪘📱☎📟📠🔋🔌💻🖥🖨⌨🖱💾💿🧮🎥📺📷📹📼🔍🕯💡🔦🏮🪔📖📚📜📰🏷💰🪙💵💳✉📦📫📮✏✒🖋🖊🖌🖍💼📁📅📋📌📎📏📐✂🗑🔒🔑🗝🔨🪓⛏🪚🔧🪛🔩⚙🧲🪜🧪🔬🔭📡🩹🩺🚪🪞🪟🛏🛋🪑🚽🚿🛁🪒🧴🧷🧹🧺🧻🪣🧼🪥🧽🧯🛒🗿",
};

// Code points of the list whose default presentation is text (Emoji_Presentation=No): they need U+FE0F.
// (⚓⚡⚽⚾⛄⛳⛵☕⌛⏰✨🀄🃏 are Emoji_Presentation=Yes and stay single code points.)
const TEXT_DEFAULT = new Set([..."🐿🕊🕷☘🌶🍽🏎🏍🛳🛥🛩🛰✈⛴⏱🕰☂⛱❄🕹♟🖼🕶🛍⛑⛸☎🖥🖨⌨🖱🕯🏷✉✏✒🖋🖊🖌🖍✂🗑🗝⛏⚙🛏🛋"].map(c => c.codePointAt(0)));

function loadLocale(code) {
  const file = join(annotationsDir, code, "annotations.json");
  if (!existsSync(file)) return null;
  const json = JSON.parse(readFileSync(file, "utf8"));
  return json.annotations?.annotations ?? null;
}

const allLocales = readdirSync(annotationsDir).filter(d => d !== "und").sort();
const bases = new Set(allLocales.filter(l => !l.includes("-")));
const locales = allLocales.filter(l => !l.includes("-") || !bases.has(l.split("-")[0]));
const data = new Map();
for (const l of locales) {
  const a = loadLocale(l);
  if (a) data.set(l, a);
}

function tts(locale, key) {
  const e = data.get(locale)?.[key];
  const t = e?.tts?.[0];
  return typeof t === "string" && t.trim() !== "" && !t.includes("↑↑↑") ? t.trim() : null;
}

const seen = new Set();
const items = [];
const dropped = [];
for (const [category, list] of Object.entries(GROUPS)) {
  for (const ch of list) {
    const cp = ch.codePointAt(0);
    if (seen.has(cp)) { console.error(`duplicate in list: ${ch}`); continue; }
    seen.add(cp);
    const key = ch;
    const text = TEXT_DEFAULT.has(cp) ? ch + "\uFE0F" : ch;
    const names = {};
    for (const l of data.keys()) {
      const n = tts(l, key);
      if (n) names[l] = n;
    }
    const missing = CORE.filter(c => !names[c]);
    if (missing.length) { dropped.push(`${ch} (no name in ${missing.join(",")})`); continue; }
    items.push({ text, category, names });
  }
}
for (const d of dropped) console.error(`dropped ${d}`);

const languages = [...data.keys()].filter(l => items.every(i => i.names[l])).sort();
const out = {
  source: `${pkg.name} ${pkg.version} (CLDR ${pkg.cldrVersion}), field tts`,
  license: "Unicode-3.0, see LICENSE-cldr.txt",
  coreLanguages: CORE,
  languages,
  items,
};
console.error(`${items.length} emoji, ${data.size} locales with annotations, ${languages.length} complete`);
// One item a line keeps the file diffable.
const lines = [
  "{",
  `"source": ${JSON.stringify(out.source)},`,
  `"license": ${JSON.stringify(out.license)},`,
  `"coreLanguages": ${JSON.stringify(out.coreLanguages)},`,
  `"languages": ${JSON.stringify(out.languages)},`,
  `"items": [`,
  items.map(i => JSON.stringify(i)).join(",\n"),
  "]",
  "}",
];
process.stdout.write(lines.join("\n") + "\n");
