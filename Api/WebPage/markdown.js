// A small Markdown reader for model cards: headings, paragraphs, lists, tables, fenced code, quotes, and inline **bold**,
// *emphasis*, `code` and [links](url). It builds DOM nodes with text content only (never HTML from the card), so a card
// cannot inject markup or scripts. Links open only http(s) addresses; a link into the repository shows as its text.

/** Markdown text to an array of DOM nodes. */
export function renderMarkdown(markdown) {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const nodes = [];
  let i = 0;
  const isBlank = line => line.trim() === "";
  const isTableRow = line => /^\s*\|.*\|\s*$/.test(line);
  const listItem = line => /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) { i++; continue; }
    let m;
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      // Card headings sit below the page's own: # becomes h3.
      const level = Math.min(6, m[1].length + 2);
      nodes.push(element(`h${level}`, inline(m[2].replace(/\s+#+\s*$/, ""))));
      i++;
    } else if (/^\s*(```|~~~)/.test(line)) {
      const fence = line.trim().slice(0, 3);
      const code = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence); i++) code.push(lines[i]);
      i++;
      const pre = document.createElement("pre");
      pre.append(element("code", [code.join("\n")]));
      nodes.push(pre);
    } else if (isTableRow(line) && i + 1 < lines.length && /^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1])) {
      const cells = row => row.trim().replace(/^\||\|$/g, "").split("|").map(c => c.trim());
      const table = document.createElement("table");
      const head = document.createElement("thead");
      head.append(element("tr", cells(line).map(c => element("th", inline(c), { scope: "col" }))));
      const body = document.createElement("tbody");
      for (i += 2; i < lines.length && isTableRow(lines[i]); i++) body.append(element("tr", cells(lines[i]).map(c => element("td", inline(c)))));
      table.append(head, body);
      nodes.push(table);
    } else if (listItem(line)) {
      const ordered = /\d/.test(listItem(line)[2]);
      const list = document.createElement(ordered ? "ol" : "ul");
      let item = null;
      while (i < lines.length && !isBlank(lines[i])) {
        const li = listItem(lines[i]);
        if (li && li[1].length < 2) {
          item = element("li", inline(li[3]));
          list.append(item);
        } else if (li && item) {
          // A nested item: a list inside the last item.
          let inner = item.lastElementChild?.tagName === "UL" || item.lastElementChild?.tagName === "OL" ? item.lastElementChild : null;
          if (!inner) { inner = document.createElement(/\d/.test(li[2]) ? "ol" : "ul"); item.append(inner); }
          inner.append(element("li", inline(li[3])));
        } else if (item) {
          item.append(" ", ...inline(lines[i].trim()));
        }
        i++;
      }
      nodes.push(list);
    } else if (/^\s*>/.test(line)) {
      const quote = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++) quote.push(lines[i].replace(/^\s*>\s?/, ""));
      nodes.push(element("blockquote", [element("p", inline(quote.join(" ")))]));
    } else {
      const paragraph = [];
      for (; i < lines.length && !isBlank(lines[i]) && !/^(#{1,6}\s|\s*(```|~~~)|\s*>)/.test(lines[i]) && !listItem(lines[i]) && !isTableRow(lines[i]); i++)
        paragraph.push(lines[i].trim());
      if (paragraph.length === 0) { nodes.push(element("p", inline(lines[i].trim()))); i++; }
      else nodes.push(element("p", inline(paragraph.join(" "))));
    }
  }
  return nodes;
}

function element(tag, children, attributes = {}) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

/** Inline Markdown to nodes: `code` first (its content is literal), then links, **bold** and *emphasis*. */
function inline(text) {
  const out = [];
  const pattern = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(element("code", [m[1]]));
    else if (m[2] !== undefined) {
      if (/^https?:\/\//i.test(m[3])) {
        const a = element("a", inline(m[2]), { href: m[3], rel: "noopener noreferrer" });
        out.push(a);
      } else out.push(...inline(m[2]));
    } else if (m[4] !== undefined) out.push(element("strong", inline(m[4])));
    else if (m[5] !== undefined) out.push(element("em", inline(m[5])));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
