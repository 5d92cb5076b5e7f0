// A TypeScript client generated from the live OpenAPI document (openapi-typescript types + openapi-fetch), used as
// generated: it calls every operation of the service, JSON and multipart, and the PNG render, and checks what comes back
// against the generated types. Run by tests/Api.Tests/ContractClientTests.cs: node dist/client.js BASE_URL SCENE_PNG
import createClient from "openapi-fetch";
import { readFileSync } from "node:fs";
import type { paths } from "./generated/api.js";

const [base, scenePath] = process.argv.slice(2);
if (!base || !scenePath) throw new Error("usage: client.js BASE_URL SCENE_PNG");
const api = createClient<paths>({ baseUrl: base });
const scene = readFileSync(scenePath);
const sceneBase64 = scene.toString("base64");
const calls: string[] = [];

function check(name: string, ok: boolean, detail: unknown): void {
  if (!ok) throw new Error(`${name}: ${JSON.stringify(detail)}`);
  calls.push(name);
}

/** Multipart bodies: the typed object, serialised as form fields (files as Blobs, arrays repeated). */
function form(fields: Record<string, unknown>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item instanceof Blob) data.append(key, item, "scene.png");
      else data.append(key, String(item));
    }
  }
  return data;
}
const sceneBlob = new Blob([scene], { type: "image/png" });

async function main(): Promise<void> {
  { const { data, response } = await api.GET("/healthz"); check("GET /healthz", response.ok && data?.status === "alive", data); }
  { const { data, response } = await api.GET("/readyz"); check("GET /readyz", response.ok && data?.status === "ready", data); }
  {
    const { data, response } = await api.GET("/v1/models");
    const model = data?.[0];
    check("GET /v1/models", response.ok && typeof model?.architecture.width === "number" && model.architecture.width * 2 > 0, data);
  }
  {
    const { data, response } = await api.POST("/v1/embed", { body: { texts: ["a photo of a cat", "ein Foto einer Katze"], include_pre_logits: true } });
    const first = data?.texts[0];
    check("POST /v1/embed (JSON)", response.ok && first !== undefined && first.embedding.length === data!.dimensions && typeof first.embedding[0] === "number", data?.dimensions);
  }
  {
    const { data, response } = await api.POST("/v1/embed", {
      body: { images: [sceneBlob as unknown as string], texts: ["a purple circle"] }, bodySerializer: form, headers: {},
    });
    check("POST /v1/embed (multipart)", response.ok && data?.images.length === 1 && data.images[0]!.width === 224, data?.images);
  }
  {
    const { data, response } = await api.POST("/v1/render", { body: { text: "Hello, CLIPPO" }, parseAs: "arrayBuffer" });
    const png = new Uint8Array(data as ArrayBuffer);
    check("POST /v1/render (PNG)", response.ok && response.headers.get("content-type") === "image/png" && png[1] === 0x50 && png[2] === 0x4e, response.status);
  }
  {
    const { data, response } = await api.POST("/v1/render", { body: { text: "Hello" }, headers: { Accept: "application/json" } });
    // The answer is the PNG or, asked for, JSON: the generated type is their union.
    const json = typeof data === "object" ? data : undefined;
    check("POST /v1/render (JSON)", response.ok && typeof json?.size === "number" && typeof json.png === "string", json?.size);
  }
  {
    const { data, response } = await api.POST("/v1/similarity", { body: { a: { text: "a red car" }, b: { text: "una macchina rossa" } } });
    check("POST /v1/similarity", response.ok && typeof data?.cosine === "number" && data.cosine <= 1, data);
  }
  {
    const { data, response } = await api.POST("/v1/classify/zero-shot", { body: { image: { data: sceneBase64 }, candidate_labels: ["circle", "Kreis", "円"], top_k: 2 } });
    check("POST /v1/classify/zero-shot (JSON)", response.ok && data?.labels.length === 2 && typeof data.labels[0]!.score === "number", data);
  }
  {
    const { data, response } = await api.POST("/v1/classify/zero-shot", {
      body: { image: sceneBlob as unknown as string, candidate_labels: ["circle", "square"] }, bodySerializer: form,
    });
    check("POST /v1/classify/zero-shot (multipart)", response.ok && data?.labels.length === 2, data);
  }
  {
    const { data, response } = await api.POST("/v1/vqa", { body: { image: { data: sceneBase64 }, question: "How many shapes are there?" } });
    check("POST /v1/vqa (JSON, head)", response.ok && data?.method === "head" && (data.answers[0]?.score ?? -1) >= 0, data?.method);
  }
  {
    const { data, response } = await api.POST("/v1/vqa", {
      body: { image: sceneBlob as unknown as string, question: "¿Cuántas figuras hay?", candidate_answers: ["una", "dos", "tres"], top_k: 3 }, bodySerializer: form,
    });
    check("POST /v1/vqa (multipart, zero-shot)", response.ok && data?.method === "zero-shot" && data.answers.length === 3, data?.method);
  }
  {
    const { data, response } = await api.POST("/v1/heads", {
      body: {
        name: "contract-sentiment", task: "text", validation_fraction: 0, overwrite: true,
        examples: [{ label: "positive", text: "I love it" }, { label: "negative", text: "I hate it" }, { label: "positive", text: "génial" }, { label: "negative", text: "nul" }],
      },
    });
    check("POST /v1/heads", response.status === 201 && data?.name === "contract-sentiment" && data.labels.length === 2, data);
  }
  { const { data, response } = await api.GET("/v1/heads"); check("GET /v1/heads", response.ok && (data?.length ?? 0) >= 1, data?.length); }
  {
    const { data, response } = await api.GET("/v1/heads/{name}", { params: { path: { name: "contract-sentiment" } } });
    check("GET /v1/heads/{name}", response.ok && data?.task === "text", data?.task);
  }
  {
    const { data, response } = await api.POST("/v1/classify/text", { body: { head: "contract-sentiment", text: "Das ist wunderbar", top_k: 1 } });
    check("POST /v1/classify/text", response.ok && data?.labels.length === 1, data);
  }
  { const { response } = await api.PUT("/v1/collections/{name}", { params: { path: { name: "contract" } } }); check("PUT /v1/collections/{name}", response.status === 201 || response.status === 200, response.status); }
  {
    const { data, response } = await api.POST("/v1/collections/{name}/items", {
      params: { path: { name: "contract" } },
      body: { upsert: true, items: [{ id: "dir/a", text: "a red circle", metadata: { year: 2024 } }, { id: "b", image: { data: sceneBase64 }, metadata: null }] },
    });
    check("POST /v1/collections/{name}/items", response.ok && data?.searchable === true && data.count === 2, data);
  }
  { const { data, response } = await api.GET("/v1/collections"); check("GET /v1/collections", response.ok && data?.some(c => c.name === "contract") === true, data); }
  {
    const { data, response } = await api.GET("/v1/collections/{name}", { params: { path: { name: "contract" } } });
    check("GET /v1/collections/{name}", response.ok && data?.count === 2, data);
  }
  {
    const { data, response } = await api.GET("/v1/collections/{name}/items", { params: { path: { name: "contract" }, query: { limit: 10 } } });
    check("GET /v1/collections/{name}/items", response.ok && data?.items.length === 2, data);
  }
  {
    const { data, response } = await api.GET("/v1/collections/{name}/items/{id}", { params: { path: { name: "contract", id: "dir/a" }, query: { embedding: true } } });
    check("GET /v1/collections/{name}/items/{id}", response.ok && data?.id === "dir/a" && (data.embedding?.length ?? 0) > 0, data?.id);
  }
  {
    const { data, response } = await api.POST("/v1/collections/{name}/search", {
      params: { path: { name: "contract" } }, body: { text: "círculo rojo", top_k: 2, min_score: -1, filter: { year: { $gte: 2020 } } },
    });
    check("POST /v1/collections/{name}/search", response.ok && data?.results[0]?.id === "dir/a" && data.results[0].hasImage === false, data);
  }
  {
    const { data, response } = await api.GET("/v1/collections/{name}/images/{id}", { params: { path: { name: "contract", id: "b" } }, parseAs: "arrayBuffer" });
    const png = new Uint8Array(data ?? new ArrayBuffer(0));
    check("GET /v1/collections/{name}/images/{id}", response.ok && response.headers.get("content-type") === "image/png" && png[1] === 0x50 && png[2] === 0x4e, response.status);
  }
  { const { data, response } = await api.GET("/v1/quotas"); check("GET /v1/quotas", response.ok && typeof data?.collections.used === "number", data); }
  { const { response } = await api.DELETE("/v1/collections/{name}/items/{id}", { params: { path: { name: "contract", id: "dir/a" } } }); check("DELETE /v1/collections/{name}/items/{id}", response.status === 204, response.status); }
  { const { response } = await api.DELETE("/v1/heads/{name}", { params: { path: { name: "contract-sentiment" } } }); check("DELETE /v1/heads/{name}", response.status === 204, response.status); }
  { const { response } = await api.DELETE("/v1/collections/{name}", { params: { path: { name: "contract" } } }); check("DELETE /v1/collections/{name}", response.status === 204, response.status); }
  {
    const { error, response } = await api.POST("/v1/vqa", { body: { image: { data: sceneBase64 }, question: "q", top_k: 0 } });
    check("a problem, typed", response.status === 400 && error?.code === "bad_top_k" && typeof error.traceId === "string", error);
  }
  console.log(JSON.stringify({ calls }));
}

main().catch(e => { console.error(String(e?.stack ?? e)); process.exit(1); });
