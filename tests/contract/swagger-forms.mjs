// Swagger UI's multipart forms, as a user meets them in a real browser (the system's Chromium): open the operation,
// "Try it out", choose multipart/form-data, pick the tour scene where the form takes an image, change nothing else,
// "Execute". Every form must succeed as it starts. Usage: node swagger-forms.mjs BASE_URL SCENE_PNG
import puppeteer from "puppeteer-core";

const [base, scene] = process.argv.slice(2);
const forms = [["VQA", "Vqa", true], ["Classification", "ZeroShotClassify", true], ["Rendering", "Render", false], ["Embeddings", "Embed", false]];
const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"], headless: true });
const results = [];
try {
  for (const [tag, operation, withImage] of forms) {
    const page = await browser.newPage();
    const errors = [];
    page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
    await page.setViewport({ width: 1280, height: 2400 });
    await page.goto(base + "/swagger/index.html", { waitUntil: "networkidle0" });
    const id = `#operations-${tag}-${operation}`;
    await page.click(`${id} .opblock-summary`);
    await page.waitForSelector(`${id} .try-out__btn`);
    await page.click(`${id} .try-out__btn`);
    for (const select of await page.$$(`${id} select`)) {
      const options = await select.$$eval("option", os => os.map(o => o.value));
      if (options.includes("multipart/form-data")) await select.select("multipart/form-data");
    }
    await new Promise(r => setTimeout(r, 300));
    if (withImage) await (await page.$(`${id} input[type=file]`)).uploadFile(scene);
    await page.click(`${id} .execute`);
    await page.waitForSelector(`${id} .live-responses-table .response-col_status`, { timeout: 30000 });
    const status = Number(await page.$eval(`${id} .live-responses-table .response .response-col_status`, e => e.innerText.trim()));
    const body = await page.$$eval(`${id} .live-responses-table .response-col_description pre`, els => els.map(e => e.innerText.slice(0, 300)).join(" "));
    results.push({ operation, status, ok: status >= 200 && status < 300 && errors.length === 0, errors, body: status >= 300 ? body : undefined });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
if (results.some(r => !r.ok)) process.exit(1);
