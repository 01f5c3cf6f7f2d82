/**
 * The local web server of `deno task serve`: the page, the recipes that can be started, the jobs
 * (start, list, cancel, live events as server-sent events, latest preview, loss chart), and the
 * recent outputs found in the output folder (their sidecars). Files are served only from the
 * output folder and recipes started only from the recipes folder, by name.
 */
import { basename, join, resolve, sep } from "node:path";
import { type Json, PROVENANCE_FORMAT } from "../pipeline/provenance.ts";
import { lossChartSvg } from "../report/loss_chart.ts";
import { renderPage } from "./page.ts";
import type { RenderJobs } from "./render_jobs.ts";
import { messageOf } from "../util/errors.ts";

/** What the server serves. */
export interface ServerOptions {
  readonly jobs: RenderJobs;
  /** Folder whose `*.yaml` recipes the page can start. */
  readonly recipesDir: string;
  /** Output folder (recent renders are read from it). */
  readonly outDir: string;
  /** The render farm's queue as `deno task queue --json` shows it, when serving with `--queue`. */
  readonly queueSnapshot?: () => Promise<unknown>;
}

/** A recent output, from its provenance sidecar. */
export interface RecentOutput {
  readonly file: string;
  readonly recipe: string;
  readonly modified: string;
  readonly finalLoss?: number;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
const notFound = () => json({ error: "not found" }, 404);

/** The request handler. */
export function serveHandler(options: ServerOptions): (request: Request) => Promise<Response> {
  const { jobs } = options;
  return async (request) => {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    const method = request.method;
    if (method === "GET" && url.pathname === "/") {
      return new Response(renderPage(), {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    if (parts[0] !== "api") return notFound();
    const [, resource, id, sub] = parts;
    if (resource === "recipes" && method === "GET") return json(await listRecipes(options));
    if (resource === "queue" && method === "GET") return await queueView(options);
    if (resource === "outputs" && method === "GET" && !id) {
      return json(await recentOutputs(options));
    }
    if (resource === "outputs" && method === "GET") return await outputFile(options, id);
    if (resource !== "renders") return notFound();
    if (!id) {
      if (method === "GET") return json(jobs.list());
      if (method === "POST") return await startRender(options, request);
      return notFound();
    }
    const job = jobs.get(id);
    if (!job) return notFound();
    if (!sub && method === "GET") return json(job);
    if (sub === "cancel" && method === "POST") return json({ cancelled: jobs.cancel(id) });
    if (sub === "preview.png" && method === "GET") {
      const png = jobs.preview(id);
      return png
        ? new Response(png.slice(), {
          headers: { "content-type": "image/png", "cache-control": "no-store" },
        })
        : notFound();
    }
    if (sub === "loss.svg" && method === "GET") {
      const trace = jobs.trace(id) ?? [];
      if (!trace.length) return notFound();
      return new Response(lossChartSvg(trace, { width: 560, height: 300 }), {
        headers: { "content-type": "image/svg+xml", "cache-control": "no-store" },
      });
    }
    if (sub === "events" && method === "GET") return eventStream(jobs, id, request.signal);
    return notFound();
  };
}

/** GET /api/queue: the farm's queue, 404 without `--queue`, 503 when Redis does not answer. */
async function queueView(options: ServerOptions): Promise<Response> {
  if (!options.queueSnapshot) {
    return json({ error: "no render farm queue (serve --queue URL)" }, 404);
  }
  try {
    return json(await options.queueSnapshot());
  } catch (e) {
    return json({ error: `the queue does not answer: ${messageOf(e)}` }, 503);
  }
}

/** The `*.yaml` files of the recipes folder, by name. */
async function listRecipes(options: ServerOptions): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(options.recipesDir)) {
    if (e.isFile && e.name.endsWith(".yaml")) names.push(e.name);
  }
  return names.sort();
}

/** POST /api/renders {recipe, sets}: 201 with the job, or 400 with the recipe's errors. */
async function startRender(options: ServerOptions, request: Request): Promise<Response> {
  let body: { recipe?: unknown; sets?: unknown };
  try {
    body = await request.json();
  } catch {
    return json({ error: "the body must be JSON: {recipe, sets}" }, 400);
  }
  const name = body.recipe;
  const sets = Array.isArray(body.sets) ? body.sets.filter((s) => typeof s === "string") : [];
  if (typeof name !== "string" || !(await listRecipes(options)).includes(name)) {
    return json({ error: `no recipe "${String(name)}" in ${options.recipesDir}` }, 400);
  }
  try {
    const job = await options.jobs.start(join(options.recipesDir, name), name, sets);
    return json(job, 201);
  } catch (e) {
    return json({ error: messageOf(e) }, 400);
  }
}

/** Outputs with a provenance sidecar in the output folder, newest first (at most 50). */
async function recentOutputs(options: ServerOptions): Promise<RecentOutput[]> {
  const found: RecentOutput[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory && depth < 3) await walk(path, depth + 1);
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const output = path.slice(0, -".json".length);
      try {
        const sidecar = JSON.parse(await Deno.readTextFile(path));
        if (sidecar?.format !== PROVENANCE_FORMAT) continue;
        const stat = await Deno.stat(output);
        found.push({
          file: output.slice(resolve(options.outDir).length + 1).split(sep).join("/"),
          recipe: sidecar.recipe?.name ?? "",
          modified: (stat.mtime ?? new Date(0)).toISOString(),
          finalLoss: lastLoss(sidecar.results),
        });
      } catch {
        // Not an output of ours (or deleted meanwhile).
      }
    }
  };
  await walk(resolve(options.outDir), 0);
  return found.sort((a, b) => b.modified.localeCompare(a.modified)).slice(0, 50);
}

function lastLoss(results: Record<string, Json> | undefined): number | undefined {
  for (const r of Object.values(results ?? {}).reverse()) {
    if (r && typeof r === "object" && !Array.isArray(r) && typeof r.final_loss === "number") {
      return r.final_loss;
    }
  }
  return undefined;
}

/** GET /api/outputs/<encoded relative path>: a file inside the output folder, never outside. */
async function outputFile(options: ServerOptions, encoded: string): Promise<Response> {
  const root = await Deno.realPath(resolve(options.outDir)).catch(() => undefined);
  if (!root) return notFound();
  let path: string;
  try {
    path = await Deno.realPath(resolve(root, decodeURIComponent(encoded)));
  } catch {
    return notFound();
  }
  if (!path.startsWith(root + sep)) return notFound();
  const type = basename(path).endsWith(".png")
    ? "image/png"
    : /\.jpe?g$/.test(path)
    ? "image/jpeg"
    : "application/octet-stream";
  return new Response(await Deno.readFile(path), { headers: { "content-type": type } });
}

const finished = (status: string) => ["done", "failed", "cancelled"].includes(status);

/** GET /api/renders/<id>/events: the job's updates as server-sent events until it ends. */
function eventStream(jobs: RenderJobs, id: string, signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  let unsubscribe: (() => void) | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (data: unknown) => {
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
        } catch {
          unsubscribe?.();
        }
      };
      const initial = jobs.get(id)!;
      send({ type: "job", job: initial });
      if (finished(initial.status)) return controller.close();
      unsubscribe = jobs.subscribe(id, (update) => {
        send(update);
        if (update.type === "job" && finished(update.job.status)) {
          unsubscribe?.();
          controller.close();
        }
      });
      signal.addEventListener("abort", () => unsubscribe?.(), { once: true });
    },
    cancel() {
      unsubscribe?.();
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}
