// The web page of VqaApi. Plain modules, no build step: it calls the same /v1 endpoints as every other client and shows what
// they answer. Nothing the user typed is cleared on an error; every API error becomes a readable message.
import { renderMarkdown } from "./markdown.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Create an element: el("p", {class: "x", dir: "auto"}, "text", child, ...). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false)
    node.append(child instanceof Node ? child : String(child));
  return node;
}

// ---------------------------------------------------------------- API access

const keyInput = $("#api-key");
const rememberKey = $("#remember-key");
keyInput.value = sessionStorage.getItem("vqa-key") ?? localStorage.getItem("vqa-key") ?? "";
rememberKey.checked = localStorage.getItem("vqa-key") !== null;
function saveKey() {
  const key = keyInput.value.trim();
  sessionStorage.setItem("vqa-key", key);
  if (rememberKey.checked && key) localStorage.setItem("vqa-key", key); else localStorage.removeItem("vqa-key");
}
keyInput.addEventListener("change", () => { saveKey(); loadEverything(); });
rememberKey.addEventListener("change", saveKey);

/** An answer of the API that is not a success, with what its ProblemDetails said. */
class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.title = problem?.title;
    this.code = problem?.code;
    this.retryAfter = retryAfter;
  }
}

/** Call the API: JSON in and out by default (FormData bodies go as multipart). Throws ApiError or a network error. */
async function api(path, { method = "GET", body, signal, accept = "application/json", raw = false } = {}) {
  const headers = { Accept: accept };
  const key = keyInput.value.trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, signal });
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON: the status says it */ }
    throw new ApiError(response.status, problem, response.headers.get("Retry-After"));
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** A readable message for any failure: what happened, and what the user can do. */
function describeError(error) {
  if (error?.name === "AbortError") return { title: "Cancelled.", detail: "Nothing was lost: press the button again when you are ready." };
  if (!(error instanceof ApiError))
    return { title: "The service could not be reached.", detail: `${error?.message ?? error}. Your inputs are kept; try again when it is back.` };
  const detail = error.message;
  const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again in a moment.";
  switch (error.status) {
    case 400: return { title: "The request was refused.", detail };
    case 401: return { title: "This service needs an API key.", detail: "Enter one under “API key” at the top of the page (create one with vqa keys create)." };
    case 403: return { title: "Not allowed with this key.", detail };
    case 404: return { title: "Not found.", detail };
    case 409: return { title: "Conflict.", detail };
    case 413: return { title: "Too large for this service.", detail: `${detail} Choose a smaller file or shorter text.` };
    case 415: return { title: "Unsupported file or content type.", detail: `${detail} Use a JPEG, PNG, WebP, GIF or BMP picture.` };
    case 422: return { title: "The picture could not be used.", detail };
    case 429: return { title: "Too many requests right now.", detail: `${detail}${wait}` };
    case 503: return { title: "The service is busy or not ready.", detail: `${detail}${wait}` };
    case 504: return { title: "The request took too long.", detail };
    case 507: return { title: "The service is out of storage.", detail };
    default: return { title: `The service answered ${error.status} (${error.title ?? "error"}).`, detail };
  }
}

function showError(form, error) {
  const box = $("[data-error]", form);
  const { title, detail } = describeError(error);
  box.replaceChildren(el("strong", {}, title), el("span", { dataset: { status: error?.status ?? "" } }, detail));
  box.dataset.status = error?.status ?? "";
  box.hidden = false;
}

function showInputError(form, message, focus) {
  const box = $("[data-error]", form);
  box.replaceChildren(el("strong", {}, message));
  box.dataset.status = "";
  box.hidden = false;
  focus?.focus();
}

// Every form's progress line (a bar counting seconds, and Cancel) comes from one template.
for (const progress of $$("[data-progress]")) progress.append($("#progress-template").content.cloneNode(true));

/**
 * Run one task of a form: the button is disabled, a progress line counts the seconds and offers Cancel, the error box
 * is cleared before and filled after a failure. The inputs are never touched.
 */
async function runTask(form, work) {
  const submit = $("button[type=submit]", form);
  const progress = $("[data-progress]", form);
  const text = $("[data-progress-text]", form);
  const cancel = $("[data-cancel]", form);
  const errorBox = $("[data-error]", form);
  const okBox = $("[data-ok]", form);
  errorBox.hidden = true;
  if (okBox) okBox.hidden = true;
  const controller = new AbortController();
  const started = performance.now();
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  let timer = null;
  if (progress) {
    progress.hidden = false;
    text.textContent = "Working…";
    timer = setInterval(() => { text.textContent = `Working… ${Math.round((performance.now() - started) / 1000)} s`; }, 1000);
    cancel.onclick = () => controller.abort();
  }
  try {
    await work(controller.signal);
  } catch (error) {
    showError(form, error);
  } finally {
    clearInterval(timer);
    if (progress) progress.hidden = true;
    submit.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

// ---------------------------------------------------------------- tabs

const tabs = $$("[role=tab]");
function selectTab(tab, focus = true) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    $("#" + t.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  const name = tab.id.replace("tab-", "");
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
}
for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", event => {
    const i = tabs.indexOf(tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(tabs[(next + tabs.length) % tabs.length]);
  });
}
function tabFromHash() {
  const tab = tabs.find(t => t.id === "tab-" + location.hash.slice(1));
  if (tab) selectTab(tab, false);
}
window.addEventListener("hashchange", tabFromHash);
tabFromHash();

// ---------------------------------------------------------------- pictures

const SAMPLES = [
  { file: "samples/tour-scene.png", alt: "Sample: a purple circle, a blue cross and a blue square" },
  { file: "samples/two-circles.png", alt: "Sample: a blue circle and a yellow circle" },
  { file: "samples/bull-star-cross.png", alt: "Sample: a bull emoji, a black star and a pink cross" },
  { file: "samples/diamond-star-cross-wolf.png", alt: "Sample: a green diamond, an orange star, a blue cross and a wolf emoji" },
];

/** A picture chooser: a file input, drag and drop, or a sample scene. Holds the chosen picture as a Blob. */
class ImagePicker {
  constructor(fieldset) {
    this.fieldset = fieldset;
    fieldset.append($("#picker-template").content.cloneNode(true));
    this.input = $("[data-file]", fieldset);
    this.preview = $("[data-preview]", fieldset);
    this.fileName = $("[data-file-name]", fieldset);
    this.drop = $("[data-drop]", fieldset);
    this.blob = null;
    this.name = null;
    this.previewUrl = null;
    this.input.addEventListener("change", () => { if (this.input.files[0]) this.set(this.input.files[0], this.input.files[0].name); });
    for (const type of ["dragenter", "dragover"])
      this.drop.addEventListener(type, event => { event.preventDefault(); this.drop.classList.add("over"); });
    for (const type of ["dragleave", "drop"])
      this.drop.addEventListener(type, () => this.drop.classList.remove("over"));
    this.drop.addEventListener("drop", event => {
      event.preventDefault();
      const file = event.dataTransfer?.files?.[0];
      if (file) this.set(file, file.name);
    });
    const samples = $("[data-samples]", fieldset);
    for (const sample of SAMPLES) {
      const button = el("button", { type: "button", "aria-pressed": "false", title: sample.alt, dataset: { sample: sample.file } },
        el("img", { src: sample.file, alt: sample.alt, width: 52, height: 52 }));
      button.addEventListener("click", async () => {
        try {
          const response = await fetch(sample.file);
          if (!response.ok) throw new Error(`the sample ${sample.file} answered ${response.status}`);
          this.set(await response.blob(), sample.file.split("/").pop(), button);
        } catch (error) {
          this.fileName.textContent = `Could not load the sample: ${error.message}`;
        }
      });
      samples.append(button);
    }
  }

  set(blob, name, sampleButton = null) {
    this.blob = blob;
    this.name = name;
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = URL.createObjectURL(blob);
    this.preview.src = this.previewUrl;
    this.preview.alt = `The chosen picture: ${name}`;
    this.preview.hidden = false;
    this.fileName.textContent = `${name} (${formatBytes(blob.size)})`;
    for (const b of $$("[data-sample]", this.fieldset)) b.setAttribute("aria-pressed", String(b === sampleButton));
    if (!sampleButton && this.input.files[0] !== blob) this.input.value = "";
  }

  /** The picture as base64, for JSON bodies. */
  async base64() {
    const bytes = new Uint8Array(await this.blob.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }
}

const pickers = Object.fromEntries($$("[data-picker]").map(f => [f.dataset.picker, new ImagePicker(f)]));

// A picture pasted anywhere on the page (Ctrl+V after copying an image) goes to the visible picker of the open section.
document.addEventListener("paste", event => {
  const file = [...(event.clipboardData?.files ?? [])].find(f => f.type.startsWith("image/"));
  const picker = Object.values(pickers).find(p => p.fieldset.offsetParent !== null && !p.fieldset.closest("[hidden]"));
  if (!file || !picker) return;
  event.preventDefault();
  picker.set(file, file.name || "pasted picture");
});

function formatBytes(n) {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`;
}

/** Show one part of a form and hide another by a radio group's value. */
function toggleBy(name, shows) {
  const update = () => {
    const value = $(`input[name=${name}]:checked`).value;
    for (const [v, nodes] of Object.entries(shows)) for (const node of nodes) node.hidden = v !== value;
  };
  for (const radio of $$(`input[name=${name}]`)) radio.addEventListener("change", update);
  update();
}

// ---------------------------------------------------------------- languages

// The languages the heads name their labels in are offered; "auto" guesses the question's language from its script
// (and, for Latin script, from a few common words), else the browser's language.
const LANGUAGE_NAMES = new Intl.DisplayNames([navigator.language || "en"], { type: "language" });
let headLanguages = ["en"];

function fillLanguageSelects() {
  for (const select of $$("[data-language-select]")) {
    const current = select.value || "auto";
    select.replaceChildren(el("option", { value: "auto" }, "the question's language (guessed)"),
      ...headLanguages.map(code => el("option", { value: code }, `${safeLanguageName(code)} (${code})`)));
    select.value = [...select.options].some(o => o.value === current) ? current : "auto";
  }
}
function safeLanguageName(code) {
  try { return LANGUAGE_NAMES.of(code) ?? code; } catch { return code; }
}

const SCRIPTS = [
  [/[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]/u, "ar"], [/[\u0590-\u05FF]/u, "he"], [/[\u0900-\u097F]/u, "hi"],
  [/[\u0E00-\u0E7F]/u, "th"], [/[\u3040-\u30FF]/u, "ja"], [/[\uAC00-\uD7AF\u1100-\u11FF]/u, "ko"],
  [/[\u4E00-\u9FFF\u3400-\u4DBF]/u, "zh"], [/[\u0400-\u04FF]/u, "ru"], [/[\u0370-\u03FF]/u, "el"],
];
const LATIN_WORDS = {
  de: /\b(der|die|das|ist|sind|hat|welche[rsn]?|wie|viele|gibt|es|ein|eine|kreis|farbe|und|nicht)\b|[äöüß]/iu,
  fr: /\b(le|la|les|est|sont|combien|quelle?s?|de|du|des|un|une|cercle|couleur|il|y|a)\b|[çèêàù]/iu,
  es: /\b(el|los|las|es|son|cuántos?|cuántas?|qué|hay|un|una|círculo|color|de|del)\b|[ñ¿¡]/iu,
  en: /\b(the|is|are|how|many|what|which|there|a|an|of|colou?r|circle|shape)\b/iu,
};

function guessLanguage(text) {
  for (const [pattern, code] of SCRIPTS) if (pattern.test(text)) return code;
  let best = null, bestHits = 0;
  for (const [code, pattern] of Object.entries(LATIN_WORDS)) {
    const hits = (text.match(new RegExp(pattern.source, "giu")) ?? []).length;
    if (hits > bestHits) { best = code; bestHits = hits; }
  }
  return best ?? (navigator.language || "en").split("-")[0];
}

function chosenLanguage(select, text) {
  return select.value === "auto" ? guessLanguage(text) : select.value;
}

/** A label's display name in a language (the head's names), else its id. */
function labelName(label, language) {
  return label.names?.[language] ?? label.names?.[language.split("-")[0]] ?? label.label;
}

// ---------------------------------------------------------------- showing results

function answerList(labels, language) {
  return el("ol", { class: "answers", "aria-label": "Answers, best first" }, labels.map(label => {
    const name = labelName(label, language);
    const percent = (label.score * 100).toFixed(1);
    return el("li", { dataset: { label: label.label } },
      el("div", {},
        el("span", { class: "name", dir: "auto", lang: label.names?.[language] ? language : null }, name),
        name !== label.label ? el("span", { class: "id" }, ` ${label.label}`) : null),
      el("span", { class: "score", "aria-label": `score ${percent} percent` }, `${percent}%`),
      el("div", { class: "bar", "aria-hidden": "true" }, barSpan(label.score)));
  }));
}

function barSpan(score) {
  const span = el("span");
  span.style.width = `${Math.max(0, Math.min(1, score)) * 100}%`; // CSSOM: allowed by the page's style-src 'self'
  return span;
}

function codePoint(cp) {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} ${String.fromCodePoint(cp)}`;
}

/** The canvas the encoder read, with its render report (font size used, lines, what did not fit, fonts, missing code points). */
function canvasFigure(render, caption) {
  const figure = el("figure", { class: "canvas", dataset: { layout: render.layout } },
    el("img", { src: `data:image/png;base64,${render.png}`, width: render.size, height: render.size,
      alt: `The ${render.size} × ${render.size} canvas the encoder read (${render.layout} layout, profile ${render.profile})` }),
    el("figcaption", {}, caption));
  const report = render.report;
  if (report) {
    const rows = [["Profile", `${report.profile}, ${report.layout} layout`]];
    report.blocks.forEach((block, i) => {
      const prefix = report.blocks.length > 1 ? `Text ${i + 1}: ` : "";
      rows.push([`${prefix}font size`, `${block.fontSize} px${block.rightToLeft ? ", right to left" : ""}`]);
      rows.push([`${prefix}lines`, String(block.lines)]);
      rows.push([`${prefix}drawn`, `${block.codePointsDrawn} of ${block.codePoints} code points`]);
      if (block.codePointsNotFitted > 0)
        rows.push([`${prefix}did not fit`, el("span", { class: "warn" }, `${block.codePointsNotFitted} code points were cut: the model did not see them`)]);
      rows.push([`${prefix}fonts`, block.fontsUsed.join(", ") || "none"]);
      if (block.missingCodePoints.length)
        rows.push([`${prefix}no font has`, el("span", { class: "warn" }, block.missingCodePoints.map(codePoint).join(", "))]);
      if (block.lastResortCodePoints.length)
        rows.push([`${prefix}last-resort font`, block.lastResortCodePoints.map(codePoint).join(", ")]);
    });
    figure.append(el("dl", { class: "report", "aria-label": "Render report" }, rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
  }
  return figure;
}

/** POST /v1/render for the same inputs a task sent, as JSON ({profile, layout, size, report, png}). */
function render(body, signal) {
  return api("/v1/render", { method: "POST", body, signal });
}

function renderForm(fields, picker) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (picker) form.append("image", picker.blob, picker.name);
  return form;
}

function topK(input, fallback) {
  const k = Number.parseInt(input.value, 10);
  return Number.isFinite(k) && k > 0 ? k : fallback;
}

function lines(text) {
  return text.split("\n").map(s => s.trim()).filter(Boolean);
}

// ---------------------------------------------------------------- Ask

const askForm = $("#ask-form");
toggleBy("ask-method", { "zero-shot": [$("#ask-candidates-box")], head: [] });
askForm.addEventListener("submit", event => {
  event.preventDefault();
  const picker = pickers.ask;
  const question = $("#ask-question").value.trim();
  if (!picker.blob) return showInputError(askForm, "Choose a picture first (a file, a dropped picture or a sample).", $("[data-file]", picker.fieldset));
  if (!question) return showInputError(askForm, "Type a question first.", $("#ask-question"));
  const zeroShot = $("input[name=ask-method]:checked").value === "zero-shot";
  const candidates = lines($("#ask-candidates").value);
  if (zeroShot && candidates.length === 0) return showInputError(askForm, "Give at least one candidate answer, one per line.", $("#ask-candidates"));
  const k = topK($("#ask-topk"), 5);
  runTask(askForm, async signal => {
    const form = renderForm({ question, top_k: String(zeroShot ? Math.min(k, candidates.length) : k) }, picker);
    if (zeroShot) for (const c of candidates) form.append("candidate_answers", c);
    // What the model saw: with a head, the question drawn above the picture (the VQA layout); zero-shot, the picture alone.
    const [result, canvas] = await Promise.all([
      api("/v1/vqa", { method: "POST", body: form, signal }),
      render(renderForm(zeroShot ? {} : { question }, picker), signal)]);
    const language = chosenLanguage($("#ask-lang"), question);
    const figures = [canvasFigure(canvas, zeroShot ? "The picture as the encoder read it" : "The question and picture as the encoder read them (VQA layout)")];
    if (zeroShot && result.answers.length) {
      const statement = `${question} ${result.answers[0].label}`;
      figures.push(canvasFigure(await render({ text: statement }, signal), `The best answer's statement, “${statement}”, as the encoder read it`));
    }
    $("#ask-output").replaceChildren(el("div", { class: "result", dataset: { method: result.method } },
      el("div", {},
        el("p", { class: "question", dir: "auto" }, question),
        el("p", { class: "method" }, result.method === "head"
          ? `Answered by the VQA head “${result.head}” of ${result.model}.`
          : `Ranked zero-shot by ${result.model}: the picture against each “question answer” statement.`),
        answerList(result.answers, language)),
      el("div", {}, figures)));
  });
});

// ---------------------------------------------------------------- Classify

const zsForm = $("#zs-form");
toggleBy("zs-kind", { image: [pickers.zs.fieldset], text: [$("#zs-text-box")] });
zsForm.addEventListener("submit", event => {
  event.preventDefault();
  const byImage = $("input[name=zs-kind]:checked").value === "image";
  const labels = lines($("#zs-labels").value);
  const text = $("#zs-text").value.trim();
  const template = $("#zs-template").value.trim();
  if (byImage && !pickers.zs.blob) return showInputError(zsForm, "Choose a picture first.", $("[data-file]", pickers.zs.fieldset));
  if (!byImage && !text) return showInputError(zsForm, "Type a text to classify.", $("#zs-text"));
  if (labels.length === 0) return showInputError(zsForm, "Give at least one label, one per line.", $("#zs-labels"));
  runTask(zsForm, async signal => {
    const form = renderForm({}, byImage ? pickers.zs : null);
    if (!byImage) form.append("text", text);
    for (const label of labels) form.append("candidate_labels", label);
    if (template) form.append("hypothesis_template", template);
    const [result, canvas] = await Promise.all([
      api("/v1/classify/zero-shot", { method: "POST", body: form, signal }),
      byImage ? render(renderForm({}, pickers.zs), signal) : render({ text }, signal)]);
    const prompt = (result.templates[0] ?? "{}").replace("{}", result.labels[0]?.label ?? "");
    $("#zs-output").replaceChildren(el("div", { class: "result" },
      el("div", {},
        el("p", { class: "method" }, `Zero-shot by ${result.model}: each label drawn in ${result.templates.length} prompt(s); ` +
          `${result.promptsEncoded} of ${result.promptsTotal} prompts encoded now, the rest from the cache.`),
        answerList(result.labels, "en")),
      el("div", {},
        canvasFigure(canvas, byImage ? "The picture as the encoder read it" : "The text as the encoder read it"),
        canvasFigure(await render({ text: prompt }, signal), `The best label's first prompt, “${prompt}”`))));
  });
});

const pairForm = $("#pair-form");
let textHeads = [];
function updatePairInputs() {
  const head = textHeads.find(h => h.name === $("#pair-head").value);
  const pair = head?.task !== "text";
  $("#pair-second-box").hidden = !pair;
  $("#pair-first-label").textContent = pair ? "Premise (sentence A)" : "Sentence";
  $("#pair-head-note").textContent = head
    ? `${head.task === "pair" ? "Sentence pair" : "Sentence"} head with labels ${head.labels.map(l => l.id).join(", ")}` +
      (head.metrics?.validationAccuracy != null ? `; validation accuracy ${(head.metrics.validationAccuracy * 100).toFixed(1)}%.` : ".")
    : "No text or pair head yet: fit one with POST /v1/heads (see Swagger UI).";
}
$("#pair-head").addEventListener("change", updatePairInputs);
pairForm.addEventListener("submit", event => {
  event.preventDefault();
  const head = textHeads.find(h => h.name === $("#pair-head").value);
  const first = $("#pair-first").value.trim();
  const second = $("#pair-second").value.trim();
  if (!head) return showInputError(pairForm, "There is no head to classify with.", $("#pair-head"));
  const pair = head.task === "pair";
  if (!first || (pair && !second)) return showInputError(pairForm, pair ? "Type both sentences." : "Type a sentence.", first ? $("#pair-second") : $("#pair-first"));
  runTask(pairForm, async signal => {
    const body = pair ? { head: head.name, pair: { premise: first, hypothesis: second } } : { head: head.name, text: first };
    const [result, canvas] = await Promise.all([
      api("/v1/classify/text", { method: "POST", body, signal }),
      render(pair ? { pair: { first, second } } : { text: first }, signal)]);
    const language = chosenLanguage($("#pair-lang"), first);
    $("#pair-output").replaceChildren(el("div", { class: "result" },
      el("div", {}, el("p", { class: "method" }, `Classified by the head “${result.head}” of ${result.model}.`), answerList(result.labels, language)),
      el("div", {}, canvasFigure(canvas, pair ? "The pair as the encoder read it (pair layout)" : "The sentence as the encoder read it"))));
  });
});

// ---------------------------------------------------------------- Search

const searchForm = $("#search-form");
let collections = [];
toggleBy("search-kind", { text: [$("#search-text-box")], image: [pickers.search.fieldset] });
toggleBy("add-kind", { text: [$("#add-text-box")], image: [pickers.add.fieldset] });

async function loadCollections(select = null) {
  const chooser = $("#search-collection");
  const note = $("#search-collection-note");
  try {
    collections = await api("/v1/collections");
    const current = select ?? chooser.value;
    chooser.replaceChildren(...collections.map(c => el("option", { value: c.name }, `${c.name} (${c.count} items)`)));
    if (collections.some(c => c.name === current)) chooser.value = current;
    describeCollection();
  } catch (error) {
    const { title, detail } = describeError(error);
    note.textContent = `${title} ${detail}`;
  }
}
function describeCollection() {
  const c = collections.find(c => c.name === $("#search-collection").value);
  $("#search-collection-note").textContent = !c
    ? "No collection yet: create one below, add a few items, then search it."
    : `${c.count} items, embedded with ${c.model} (${c.profile}, ${c.dimensions} dimensions)` +
      (c.matchesServedModel ? "." : ": another model than the one served, so text and picture searches are refused.");
}
$("#search-collection").addEventListener("change", describeCollection);
$("#search-refresh").addEventListener("click", () => loadCollections());

searchForm.addEventListener("submit", event => {
  event.preventDefault();
  const name = $("#search-collection").value;
  const byImage = $("input[name=search-kind]:checked").value === "image";
  const text = $("#search-text").value.trim();
  if (!name) return showInputError(searchForm, "Choose a collection (or create one below).", $("#search-collection"));
  if (byImage && !pickers.search.blob) return showInputError(searchForm, "Choose a picture to search with.", $("[data-file]", pickers.search.fieldset));
  if (!byImage && !text) return showInputError(searchForm, "Type what to search for.", $("#search-text"));
  let filter;
  const filterText = $("#search-filter").value.trim();
  if (filterText) {
    try { filter = JSON.parse(filterText); } catch (e) { return showInputError(searchForm, `The filter is not JSON: ${e.message}`, $("#search-filter")); }
  }
  runTask(searchForm, async signal => {
    const body = { top_k: topK($("#search-topk"), 5), filter };
    if (byImage) body.image = { data: await pickers.search.base64() }; else body.text = text;
    const result = await api(`/v1/collections/${encodeURIComponent(name)}/search`, { method: "POST", body, signal });
    const list = el("ol", { class: "results", "aria-label": "Results, best first" });
    for (const hit of result.results) {
      const thumb = hit.hasImage ? el("img", { class: "thumb", alt: `Picture of item ${hit.id}` }) : el("div", { class: "thumb text-item", "aria-hidden": "true" }, "Aa");
      list.append(el("li", { dataset: { id: hit.id } },
        thumb,
        el("div", {},
          el("p", { class: "text", dir: "auto" }, hit.text ?? (hit.hasImage ? "(a picture)" : "(an embedding)")),
          el("p", { class: "meta" }, el("span", { class: "score" }, `score ${hit.score.toFixed(3)}`), ` · id ${hit.id}`,
            hit.metadata ? ` · ${JSON.stringify(hit.metadata)}` : ""))));
      if (hit.hasImage) loadThumbnail(name, hit.id, thumb, signal);
    }
    $("#search-output").replaceChildren(
      el("p", { class: "method" }, `${result.results.length} result(s) from “${result.collection}” by ${result.model}.`),
      result.results.length ? list : el("p", {}, "Nothing matched (check the filter)."));
  });
});

async function loadThumbnail(collection, id, img, signal) {
  try {
    const response = await api(`/v1/collections/${encodeURIComponent(collection)}/images/${encodeURIComponent(id)}`, { accept: "image/*", raw: true, signal });
    img.src = URL.createObjectURL(await response.blob());
  } catch {
    img.alt = `The picture of item ${id} could not be loaded`;
  }
}

const createForm = $("#create-form");
createForm.addEventListener("submit", event => {
  event.preventDefault();
  const name = $("#create-name").value.trim();
  if (!name) return showInputError(createForm, "Type a name for the collection.", $("#create-name"));
  runTask(createForm, async signal => {
    const created = await api(`/v1/collections/${encodeURIComponent(name)}`, { method: "PUT", signal });
    await loadCollections(created.name);
    const ok = $("[data-ok]", createForm);
    ok.textContent = `Collection “${created.name}” is ready.`;
    ok.hidden = false;
  });
});

const addForm = $("#add-form");
addForm.addEventListener("submit", event => {
  event.preventDefault();
  const name = $("#search-collection").value;
  const id = $("#add-id").value.trim();
  const byImage = $("input[name=add-kind]:checked").value === "image";
  const text = $("#add-text").value.trim();
  if (!name) return showInputError(addForm, "Choose or create a collection first.", $("#search-collection"));
  if (!id) return showInputError(addForm, "Give the item an id.", $("#add-id"));
  if (byImage && !pickers.add.blob) return showInputError(addForm, "Choose a picture to add.", $("[data-file]", pickers.add.fieldset));
  if (!byImage && !text) return showInputError(addForm, "Type the item's text.", $("#add-text"));
  let metadata;
  const metadataText = $("#add-metadata").value.trim();
  if (metadataText) {
    try { metadata = JSON.parse(metadataText); } catch (e) { return showInputError(addForm, `The metadata is not JSON: ${e.message}`, $("#add-metadata")); }
  }
  runTask(addForm, async signal => {
    const item = { id, metadata };
    if (byImage) item.image = { data: await pickers.add.base64() }; else item.text = text;
    const result = await api(`/v1/collections/${encodeURIComponent(name)}/items`, { method: "POST", body: { items: [item], upsert: true }, signal });
    await loadCollections(name);
    const ok = $("[data-ok]", addForm);
    ok.textContent = `${result.replaced ? "Replaced" : "Added"} “${id}”; the collection holds ${result.count} items.`;
    ok.hidden = false;
  });
});

// ---------------------------------------------------------------- Model facts

function factList(rows) {
  return el("dl", {}, rows.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

async function loadModel() {
  try {
    const [model] = await api("/v1/models");
    const a = model.architecture;
    const profile = model.renderProfile;
    const shaped = profile.shaped;
    const toy = model.randomlyInitialized || /toy|generated world/i.test(`${model.description ?? ""} ${model.card ?? ""}`);
    $("#model-line").replaceChildren(el("span", {},
      "Serving ", el("strong", {}, model.id), ` on ${model.executionProvider}`,
      model.randomlyInitialized ? el("span", { class: "warn" }, " · random weights: its answers mean nothing") : null,
      !model.randomlyInitialized && toy ? el("span", { class: "warn" }, " · a small model of a toy world of shapes, not photographs") : null));
    $("#model-facts").replaceChildren(factList([
      ["Model", model.id],
      ["Description", model.description],
      ["Warning", model.warning ? el("span", { class: "warn" }, model.warning) : null],
      ["Knows", toy ? el("span", { class: "warn" }, model.randomlyInitialized ? "nothing: randomly initialised" : "a toy world (see the model card below)") : "see the model card below"],
      ["Architecture", `ViT, width ${a.width}, depth ${a.depth}, ${a.heads} heads, MLP ${a.mlpDim}, patch ${a.patchSize}, ${a.imageSize} px, ${a.pool} pooling, ${a.outDim}-d embedding`],
      ["Parameters", model.parameters.toLocaleString("en")],
      ["Weights", model.weightsDType],
      ["Render profile", shaped
        ? `${shaped.name}: shaped text, ${shaped.text?.fontSize} px shrinking to ${shaped.text?.minFontSize} px, margin ${shaped.margin} px`
        : `${profile.kind} (the official CLIPPO renderer)`],
      ["Temperature", model.temperature.toFixed(2)],
      ["Execution provider", model.executionProvider + (model.executionProviderNote ? ` (${model.executionProviderNote})` : "")],
      ["Ready", model.ready ? "yes" : "warming up"],
      ["Canvases encoded", `${model.canvasesEncoded.toLocaleString("en")} in ${model.batchesRun.toLocaleString("en")} batches`],
    ]));
    $("#model-card").replaceChildren(...(model.card ? cardNodes(renderMarkdown(model.card)) : [el("p", {}, "This model has no card (README.md in its directory).")]));
  } catch (error) {
    const { title, detail } = describeError(error);
    $("#model-line").textContent = `${title} ${detail}`;
    const box = $("#model-error");
    box.replaceChildren(el("strong", {}, title), detail);
    box.hidden = false;
  }
}

/** The card's opening (up to its second heading: the title and the summary) shown; its sections behind "The whole model card". */
function cardNodes(nodes) {
  const headings = nodes.flatMap((node, i) => /^H[1-6]$/.test(node.tagName) ? [i] : []);
  const first = headings[1] ?? -1;
  if (first < 0) return nodes;
  const rest = el("details", { class: "card-rest" }, el("summary", {}, "The whole model card"), nodes.slice(first));
  return [...nodes.slice(0, first), rest];
}

async function loadHeads() {
  try {
    const heads = await api("/v1/heads");
    textHeads = heads.filter(h => h.task === "pair" || h.task === "text");
    const chooser = $("#pair-head");
    const current = chooser.value;
    chooser.replaceChildren(...textHeads.map(h => el("option", { value: h.name }, `${h.name} (${h.task})`)));
    if (textHeads.some(h => h.name === current)) chooser.value = current;
    updatePairInputs();
    // A model without a VQA head (an official CLIPPO checkpoint) answers zero-shot only: the page says so and switches.
    const vqaHead = heads.some(h => h.task === "vqa" && h.fittedOnServedModel);
    const headChoice = $("input[name=ask-method][value=head]");
    headChoice.disabled = !vqaHead;
    headChoice.parentElement.lastChild.textContent = vqaHead ? " the model's VQA head" : " the model's VQA head (this model has none)";
    if (!vqaHead && headChoice.checked) $("input[name=ask-method][value=zero-shot]").click();
    headLanguages = [...new Set(heads.flatMap(h => h.labels.flatMap(l => Object.keys(l.names ?? {}))))];
    if (headLanguages.length === 0) headLanguages = ["en"];
    fillLanguageSelects();
    $("#model-heads").replaceChildren(heads.length === 0 ? el("p", {}, "No heads.") : el("table", { class: "heads" },
      el("thead", {}, el("tr", {}, ["Head", "Task", "Labels", "Validation accuracy", "Fitted on this model"].map(h => el("th", { scope: "col" }, h)))),
      el("tbody", {}, heads.map(h => el("tr", {},
        el("td", {}, h.name), el("td", {}, h.task), el("td", {}, String(h.labels.length)),
        el("td", {}, h.metrics?.validationAccuracy != null ? `${(h.metrics.validationAccuracy * 100).toFixed(1)}%` : "—"),
        el("td", {}, h.fittedOnServedModel ? "yes" : "no"))))));
  } catch (error) {
    const { title, detail } = describeError(error);
    $("#model-heads").replaceChildren(el("p", {}, `${title} ${detail}`));
  }
}

async function checkDeveloperLinks() {
  for (const [id, path] of [["#link-swagger", "swagger/index.html"], ["#link-openapi", "openapi/v1.json"]]) {
    try {
      const response = await fetch(path);
      if (!response.ok) $(id).closest("li").replaceChildren(`${$(id).textContent}: turned off on this service.`);
    } catch { /* leave the link */ }
  }
}

function loadEverything() {
  loadModel();
  loadHeads();
  loadCollections();
}

fillLanguageSelects();
loadEverything();
checkDeveloperLinks();
