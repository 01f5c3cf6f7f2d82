/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * The studio page's script (bundled with CodeMirror by bundle.ts): recipes and their variables as
 * a form, renders watched live over server-sent events (preview and loss curve pushed, never
 * polled), the recipe editor validated as you type by the server's validator, the outputs gallery
 * with each output's record, and a dropped PNG opened as the recipe that made it.
 */
import type { EditorView } from "./editor.ts";
import { lossChartSvg, type LossPoint } from "../../report/loss_chart.ts";
import { messageOf } from "../../util/errors.ts";

interface VarField {
  name: string;
  type: "number" | "integer" | "boolean" | "string" | "image" | "list" | "map";
  default: string;
}
interface RecipeEntry {
  name: string;
  description: string;
  vars: VarField[];
  text: string;
}
interface JobProgress {
  step: string;
  stepNumber?: number;
  steps?: number;
  iteration?: number;
  total?: number;
  loss?: number;
  percent?: number;
  eta?: number;
}
interface JobView {
  id: string;
  recipe: string;
  sets: string[];
  status: string;
  progress?: JobProgress;
  outputs: string[];
  summary?: string;
  error?: string;
}
interface Issue {
  line: number;
  col: number;
  step?: string;
  message: string;
}
interface GalleryEntry {
  file: string;
  recipe: string;
  modified: string;
  seed: number;
  engine: string;
  finalLoss?: number;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const token = new URLSearchParams(location.search).get("token") ??
  sessionStorage.getItem("stylepipe-token") ?? "";
if (token) sessionStorage.setItem("stylepipe-token", token);
/** A URL the browser fetches itself (images, event streams): the token goes in the query. */
const withToken = (url: string) =>
  token ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : url;

async function api<T>(url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = "Bearer " + token;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await r.json();
  if (!r.ok) throw Object.assign(new Error(answer.error ?? r.statusText), { answer });
  return answer as T;
}

const outputUrl = (file: string) =>
  withToken("/api/outputs/" + file.split("/").map(encodeURIComponent).join("/"));
const fmtTime = (iso: string) => new Date(iso).toLocaleString();
const seconds = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)} h ${Math.round(s % 3600 / 60)} min`
    : s >= 60
    ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
    : `${Math.round(s)} s`;

function cells(tr: HTMLTableRowElement, values: (string | Node)[]) {
  for (const v of values) {
    const td = tr.insertCell();
    if (typeof v === "string") td.textContent = v;
    else td.append(v);
  }
  return tr;
}

function chart(target: HTMLElement, points: LossPoint[], empty: string) {
  if (!points.some((p) => p.loss > 0)) {
    target.classList.add("placeholder");
    target.textContent = empty;
    return;
  }
  target.classList.remove("placeholder");
  target.innerHTML = lossChartSvg(points, { width: 480, height: 280 });
}

// ---------------------------------------------------------------- recipes and their settings
let recipes: RecipeEntry[] = [];
let images: { name: string; folder: string }[] = [];
let current: RecipeEntry | undefined;

async function loadRecipes(select?: string) {
  [recipes, images] = await Promise.all([
    api<RecipeEntry[]>("/api/recipes"),
    api<{ name: string; folder: string }[]>("/api/images"),
  ]);
  const choose = new Option("Choose a recipe…", "");
  $<HTMLSelectElement>("recipe").replaceChildren(
    choose,
    ...recipes.map((r) => new Option(r.name, r.name)),
  );
  if (select) {
    $<HTMLSelectElement>("recipe").value = select;
    chooseRecipe(select);
  }
}

function chooseRecipe(name: string) {
  current = recipes.find((r) => r.name === name);
  const description = $("description");
  description.classList.toggle("empty", !current?.description);
  description.textContent = current
    ? current.description || "This recipe has no leading comment describing it."
    : "Choose a recipe to see what it does and the settings it takes.";
  const form = $("vars-form");
  form.replaceChildren();
  if (!current) {
    form.innerHTML =
      `<p class="empty">The recipe's variables appear here, each with its default.</p>`;
  } else if (!current.vars.length) {
    form.innerHTML = `<p class="empty">This recipe has no variables: it renders as written.</p>`;
  }
  for (const v of current?.vars ?? []) form.append(varInput(v));
  for (const id of ["start", "edit"]) $<HTMLButtonElement>(id).disabled = !current;
}

function varInput(v: VarField): HTMLElement {
  const label = document.createElement("label");
  label.className = "field";
  label.append(v.name + " ");
  const kind = document.createElement("small");
  kind.textContent = v.type === "image" ? "image from the lookup folders" : v.type;
  label.append(kind);
  let input: HTMLInputElement | HTMLSelectElement;
  if (v.type === "image") {
    input = document.createElement("select");
    for (const i of images) input.append(new Option(`${i.name}  (${i.folder})`, i.name));
    input.value = v.default;
  } else {
    input = document.createElement("input");
    input.type = v.type === "boolean"
      ? "checkbox"
      : v.type === "number" || v.type === "integer"
      ? "number"
      : "text";
    if (v.type === "integer") input.step = "1";
    if (v.type === "number") input.step = "any";
    if (v.type === "boolean") input.checked = v.default === "true";
    else input.value = v.default;
  }
  input.name = v.name;
  input.dataset.default = v.default;
  label.append(input);
  return label;
}

/** `name=value` for each variable changed from its default. */
function formSets(): string[] {
  const sets: string[] = [];
  for (const el of $("vars-form").querySelectorAll<HTMLInputElement>("input, select")) {
    const value = el.type === "checkbox" ? String(el.checked) : el.value;
    if (value !== el.dataset.default) sets.push(`${el.name}=${value}`);
  }
  return sets;
}

// ---------------------------------------------------------------- renders, watched live
let source: EventSource | undefined;
let watching = "";
let trace: LossPoint[] = [];
let traceStep = "";

function showError(message: string) {
  $("error").textContent = message;
}

/** Starts a render; a refusal is shown in `errorBox` (beside the button that asked). */
async function startRender(recipe: string, sets: string[], errorBox = "error") {
  showError("");
  try {
    const job = await api<JobView>("/api/renders", { recipe, sets });
    watch(job.id);
    refreshJobs();
    $("watch-card").scrollIntoView({ behavior: "instant" as ScrollBehavior, block: "nearest" });
  } catch (e) {
    $(errorBox).textContent = messageOf(e);
  }
}

function watch(id: string) {
  source?.close();
  watching = id;
  history.replaceState(null, "", location.pathname + location.search + "#" + id);
  $("job-id").textContent = "· " + id;
  trace = [];
  traceStep = "";
  const preview = $<HTMLImageElement>("preview");
  preview.hidden = true;
  preview.dataset.iteration = "0";
  $("preview-box").hidden = false;
  $("preview-it").textContent = "";
  $("loss").dataset.points = "0";
  chart($("loss"), [], "The loss curve grows as the optimizer runs.");
  source = new EventSource(withToken(`/api/renders/${id}/events`));
  source.onmessage = (m) => {
    const update = JSON.parse(m.data);
    if (update.type === "job" && update.job.id === watching) showJob(update.job);
    else if (update.type === "preview") showPreview(update.preview);
    else if (update.type === "trace") addPoints(update.step, update.from, update.points);
  };
  source.onerror = () => {
    if (source?.readyState === EventSource.CLOSED) source = undefined;
  };
}

function showJob(job: JobView) {
  const p = job.progress;
  const status = $("status");
  status.dataset.status = job.status;
  const parts = [
    job.status === "running" ? "Running" : job.status[0].toUpperCase() + job.status.slice(1),
  ];
  if (p && job.status === "running") {
    parts.push(`step ${p.step}${p.stepNumber ? ` (${p.stepNumber} of ${p.steps})` : ""}`);
    if (p.iteration !== undefined) {
      parts.push(`iteration ${p.iteration}${p.total ? ` of ${p.total}` : ""}`);
    }
    if (p.percent !== undefined) parts.push(`${p.percent.toFixed(0)} %`);
    if (p.eta !== undefined) parts.push(`about ${seconds(p.eta)} left`);
    if (p.loss !== undefined) parts.push(`loss ${p.loss.toPrecision(4)}`);
  }
  if (job.status === "queued") parts.push("waits for the render before it");
  if (job.status === "done") parts.push(job.summary ?? `wrote ${job.outputs.join(", ")}`);
  if (job.error) parts.push(job.error);
  status.textContent = parts.join(" · ");
  const bar = $<HTMLProgressElement>("bar");
  bar.hidden = job.status !== "running";
  bar.value = p?.percent ?? 0;
  $<HTMLButtonElement>("cancel").disabled = !["queued", "running"].includes(job.status);
  if (!["queued", "running"].includes(job.status)) {
    refreshJobs();
    refreshGallery();
  }
}

function showPreview(preview: { iteration: number; png: string; producedAt: number }) {
  const img = $<HTMLImageElement>("preview");
  const next = new Image();
  next.onload = () => {
    if (Number(img.dataset.iteration) > preview.iteration) return;
    img.src = next.src;
    img.dataset.iteration = String(preview.iteration);
    img.dataset.producedAt = String(preview.producedAt);
    const shownAt = Date.now();
    img.dataset.shownAt = String(shownAt);
    // For serve-bench: how long after the engine produced it this preview was on screen.
    performance.mark("preview", {
      detail: { iteration: preview.iteration, ms: shownAt - preview.producedAt },
    });
    img.hidden = false;
    $("preview-box").hidden = true;
    $("preview-it").textContent = `at iteration ${preview.iteration}`;
  };
  next.src = "data:image/png;base64," + preview.png;
}

function addPoints(step: string, from: number, points: LossPoint[]) {
  if (step !== traceStep) [trace, traceStep] = [[], step];
  trace.length = Math.min(trace.length, from);
  trace.push(...points);
  drawSoon();
}

let drawPending = false;
/** Redraws the curve once per frame at most, however fast points arrive. */
function drawSoon() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    chart($("loss"), trace, "The loss curve grows as the optimizer runs.");
    $("loss").dataset.points = String(trace.length);
  });
}

async function refreshJobs() {
  const jobs = await api<JobView[]>("/api/renders");
  $("jobs-empty").hidden = jobs.length > 0;
  const body = $<HTMLTableElement>("jobs").tBodies[0];
  body.replaceChildren();
  for (const j of jobs) {
    const link = document.createElement("a");
    link.href = "#" + j.id;
    link.textContent = j.id;
    link.onclick = (e) => {
      e.preventDefault();
      watch(j.id);
    };
    const result = document.createElement("span");
    for (const o of j.outputs) {
      const a = document.createElement("a");
      a.href = outputUrl(o);
      a.textContent = o.split("/").at(-1)!;
      a.target = "_blank";
      result.append(a, " ");
    }
    if (j.summary) result.append(j.summary);
    if (j.error) result.append(j.error);
    cells(body.insertRow(), [link, j.recipe, j.sets.join(" ") || "defaults", j.status, result]);
  }
}

// ---------------------------------------------------------------- the editor
let editor: EditorView | undefined;
let editorModule: typeof import("./editor.ts") | undefined;
let validateTimer: ReturnType<typeof setTimeout> | undefined;
let editorName = "";

/** The editor, loaded and created when first opened (the page is usable sooner). */
let editorReady: Promise<EditorView> | undefined;
function ensureEditor(): Promise<EditorView> {
  editorReady ??= import("./editor.ts").then((m) => {
    editorModule = m;
    editor = m.createEditor($("editor"), validateSoon);
    return editor;
  });
  return editorReady;
}

async function openEditor(text: string, name: string) {
  $("editor-card").hidden = false;
  const view = await ensureEditor();
  editorName = name;
  $("editor-name").textContent = "· " + name;
  $<HTMLInputElement>("save-name").value = name;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  $("editor-card").scrollIntoView({ behavior: "instant" as ScrollBehavior, block: "start" });
  validateSoon();
}

function validateSoon() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validateNow, 250);
}

async function validateNow() {
  if (!editor || !editorModule) return;
  const [view, text] = [editor, editor.state.doc.toString()];
  let issues: Issue[];
  try {
    ({ issues } = await api<{ issues: Issue[] }>("/api/validate", { text, name: safeName() }));
  } catch (e) {
    issues = [{ line: 1, col: 1, message: messageOf(e) }];
  }
  if (text !== view.state.doc.toString()) return; // typed meanwhile: the next check follows
  editorModule.markIssues(view, issues);
  const list = $("issues");
  list.dataset.count = String(issues.length);
  list.replaceChildren();
  if (!issues.length) {
    list.innerHTML = `<div class="ok">✓ valid: the recipe can be saved and rendered</div>`;
  }
  for (const i of issues) {
    const div = document.createElement("div");
    div.className = "issue";
    div.dataset.line = String(i.line);
    div.textContent = `line ${i.line}, column ${i.col}: ${
      i.step ? `step "${i.step}": ` : ""
    }${i.message}`;
    div.onclick = () => {
      const line = view.state.doc.line(Math.min(i.line, view.state.doc.lines));
      view.dispatch({ selection: { anchor: line.from + i.col - 1 }, scrollIntoView: true });
      view.focus();
    };
    list.append(div);
  }
}

function safeName(): string {
  const raw = $<HTMLInputElement>("save-name").value.trim() || editorName || "untitled.yaml";
  const name = raw.replace(/[^\w.-]/g, "-").replace(/^[.-]+/, "");
  return name.endsWith(".yaml") ? name : name.replace(/\.yml$/, "") + ".yaml";
}

async function saveAs(overwrite = false): Promise<string | undefined> {
  const name = safeName();
  try {
    const text = (await ensureEditor()).state.doc.toString();
    await api("/api/recipes", { name, text, overwrite });
  } catch (e) {
    const answer = (e as { answer?: { error?: string } }).answer;
    if (
      !overwrite && answer && /exists/.test(answer.error ?? "") &&
      confirm(`${name} exists. Overwrite it?`)
    ) {
      return saveAs(true);
    }
    $("save-status").textContent = messageOf(e);
    return undefined;
  }
  $("save-status").textContent = `saved as ${name} in the recipes folder`;
  editorName = name;
  $("editor-name").textContent = "· " + name;
  await loadRecipes(name);
  return name;
}

// ---------------------------------------------------------------- outputs and records
let gallery: GalleryEntry[] = [];
let shownRecord:
  | { file: string; yaml: string; recipe: string; inputs: { path: string }[] }
  | undefined;

async function refreshGallery() {
  gallery = await api<GalleryEntry[]>("/api/outputs");
  $("gallery-empty").hidden = gallery.length > 0;
  $("gallery").replaceChildren(...gallery.map((o) => {
    const card = document.createElement("div");
    card.className = "thumb";
    card.dataset.file = o.file;
    const link = document.createElement("a");
    link.href = outputUrl(o.file);
    link.target = "_blank";
    link.title = "open the full image";
    const img = document.createElement("img");
    img.src = outputUrl(o.file);
    img.alt = o.file;
    img.loading = "lazy";
    link.append(img);
    link.onclick = (e) => e.stopPropagation();
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = o.file;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${o.recipe} · ${fmtTime(o.modified)}`;
    card.append(link, name, meta);
    card.onclick = () => showRecord(o.file);
    return card;
  }));
}

async function showRecord(file: string) {
  for (const c of $("gallery").querySelectorAll<HTMLElement>(".thumb")) {
    c.classList.toggle("selected", c.dataset.file === file);
  }
  const r = await api<{
    file: string;
    recipe: string;
    recipeFile: string;
    seed: number;
    engine: { name: string; backend?: string };
    inputs: { path: string; found: string; sha256: string }[];
    startedAt?: string;
    finishedAt?: string;
    finalLoss?: number;
    trace: LossPoint[];
    yaml: string;
  }>("/api/records/" + file.split("/").map(encodeURIComponent).join("/"));
  shownRecord = r;
  $("record").hidden = false;
  $("record-file").textContent = r.file;
  const facts = $<HTMLTableElement>("record-facts").tBodies[0];
  facts.replaceChildren();
  const took = r.startedAt && r.finishedAt
    ? ` (${seconds((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)})`
    : "";
  for (
    const [k, v] of [
      ["Recipe", `${r.recipe} (${r.recipeFile})`],
      ["Seed", String(r.seed)],
      ["Engine", r.engine.name + (r.engine.backend ? ` — ${r.engine.backend}` : "")],
      ["Rendered", r.finishedAt ? fmtTime(r.finishedAt) + took : "unknown"],
      ["Final loss", r.finalLoss?.toPrecision(5) ?? "—"],
    ]
  ) {
    const tr = facts.insertRow();
    const th = document.createElement("th");
    th.textContent = k;
    tr.append(th);
    tr.insertCell().textContent = v;
  }
  const inputs = $<HTMLTableElement>("record-inputs").tBodies[0];
  inputs.replaceChildren(...r.inputs.map((i) => {
    const tr = cells(document.createElement("tr"), [i.path, i.found, i.sha256.slice(0, 16) + "…"]);
    tr.cells[2].className = "mono";
    tr.cells[2].title = i.sha256;
    return tr;
  }));
  chart($("record-loss"), r.trace, "This output's record has no loss trace (no optimizing step).");
  const compare = $<HTMLSelectElement>("compare");
  compare.replaceChildren(
    ...r.inputs.filter((i) => i.found === "images").map((i) =>
      new Option(`input ${i.path}`, "image:" + i.path.split("/").at(-1))
    ),
    ...gallery.filter((g) => g.file !== r.file).map((g) =>
      new Option(`output ${g.file}`, "output:" + g.file)
    ),
  );
  $("record-status").textContent = "";
  $("after").setAttribute("src", outputUrl(r.file));
  updateCompare();
  $("record").scrollIntoView({ behavior: "instant" as ScrollBehavior, block: "start" });
}

function updateCompare() {
  const value = $<HTMLSelectElement>("compare").value;
  $("slider").hidden = !value;
  if (!value) return;
  const [kind, name] = [value.slice(0, value.indexOf(":")), value.slice(value.indexOf(":") + 1)];
  $("before").setAttribute(
    "src",
    kind === "image" ? withToken("/api/images/" + encodeURIComponent(name)) : outputUrl(name),
  );
}

async function openDroppedFile(file: File) {
  const data = await fileBase64(file);
  try {
    const r = await api<{ name: string; yaml: string }>("/api/provenance", {
      name: file.name,
      data,
    });
    openEditor(r.yaml, r.name.replace(/[^\w.-]/g, "-") + ".yaml");
    showError("");
  } catch (e) {
    showError(messageOf(e));
    $("error").scrollIntoView({ block: "center" });
  }
}

function fileBase64(file: File): Promise<string> {
  return new Promise((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => ok(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => fail(reader.error);
    reader.readAsDataURL(file);
  });
}

// ---------------------------------------------------------------- the farm
async function refreshQueue() {
  let snap: {
    counts: Record<string, number>;
    workers?: string[];
    jobs: {
      id: string;
      state: string;
      recipe: string;
      worker?: string;
      outputs?: string[];
      failedReason?: string;
      progress?: JobProgress;
    }[];
  };
  try {
    snap = await api("/api/queue");
  } catch (e) {
    $("farm-counts").textContent = messageOf(e);
    return;
  }
  const counts = Object.entries(snap.counts).map(([k, n]) => `${k} ${n}`).join(" · ");
  const workers = snap.workers
    ? ` · ${snap.workers.length} worker(s) connected${
      snap.workers.length ? ": " + snap.workers.join(", ") : ""
    }`
    : "";
  $("farm-counts").textContent = counts + workers;
  $("farm-empty").hidden = snap.jobs.length > 0;
  const body = $<HTMLTableElement>("farm-jobs").tBodies[0];
  body.replaceChildren();
  for (const j of snap.jobs) {
    const p = j.progress;
    const figures = p?.step
      ? `${p.step}${p.iteration !== undefined ? ` it ${p.iteration}/${p.total}` : ""}` +
        (p.loss !== undefined ? ` · loss ${p.loss.toPrecision(4)}` : "")
      : "";
    cells(body.insertRow(), [
      j.id.slice(0, 12),
      j.state,
      j.recipe.split("/").at(-1)!,
      figures,
      j.worker ?? "",
      (j.outputs ?? []).map((o) => o.split("/").at(-1)).join(", "),
      j.failedReason ?? "",
    ]);
  }
  document.body.dataset.queue = "shown";
}

// ---------------------------------------------------------------- wiring
async function main() {
  $<HTMLSelectElement>("recipe").onchange = (e) =>
    chooseRecipe((e.target as HTMLSelectElement).value);
  $("start").onclick = () => current && startRender(current.name, formSets());
  $("cancel").onclick = () => api(`/api/renders/${watching}/cancel`, {});
  $("edit").onclick = () => current && openEditor(current.text, current.name);
  $("save").onclick = () => saveAs();
  $("save-render").onclick = async () => {
    const name = await saveAs();
    if (name) startRender(name, [], "save-status");
  };
  $("submit-farm").onclick = async () => {
    const name = await saveAs();
    if (!name) return;
    try {
      const r = await api<{ jobs: string[] }>("/api/queue", { recipe: name, sets: [] });
      $("save-status").textContent = `submitted ${r.jobs.length} job(s) to the farm`;
      refreshQueue();
    } catch (e) {
      $("save-status").textContent = messageOf(e);
    }
  };
  $<HTMLInputElement>("upload").onchange = async (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      const r = await api<{ name: string; width: number; height: number }>(
        "/api/images",
        { name: file.name.replace(/[^\w.-]/g, "-"), data: await fileBase64(file) },
      );
      showError("");
      await loadRecipes(current?.name);
      $("error").textContent =
        `uploaded ${r.name} (${r.width}×${r.height}); choose it in an image setting`;
    } catch (err) {
      showError(messageOf(err));
    }
  };
  $<HTMLSelectElement>("compare").onchange = updateCompare;
  $<HTMLInputElement>("slider-range").oninput = (e) => {
    const v = (e.target as HTMLInputElement).value;
    $("after-clip").style.clipPath = `inset(0 0 0 ${v}%)`;
  };
  $("open-recipe").onclick = () =>
    shownRecord &&
    openEditor(shownRecord.yaml, shownRecord.recipe.replace(/[^\w.-]/g, "-") + ".yaml");
  $("again").onclick = async () => {
    if (!shownRecord) return;
    await openEditor(shownRecord.yaml, shownRecord.recipe.replace(/[^\w.-]/g, "-") + "-again.yaml");
    const name = await saveAs(true);
    if (name) startRender(name, [], "record-status");
  };
  $("verify").onclick = async () => {
    if (!shownRecord) return;
    try {
      const job = await api<JobView>("/api/verify", { file: shownRecord.file });
      $("record-status").textContent = `verifying as ${job.id}: see Live render`;
      watch(job.id);
      refreshJobs();
    } catch (e) {
      $("record-status").textContent = messageOf(e);
    }
  };
  let depth = 0;
  addEventListener("dragenter", (e) => {
    if (e.dataTransfer?.types.includes("Files")) $("drop").hidden = ++depth <= 0;
  });
  addEventListener("dragleave", () => {
    if (--depth <= 0) $("drop").hidden = true;
  });
  addEventListener("dragover", (e) => e.preventDefault());
  addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    $("drop").hidden = true;
    const file = e.dataTransfer?.files[0];
    if (file) openDroppedFile(file);
  });
  const [info] = await Promise.all([
    api<
      {
        recipesDir: string;
        outDir: string;
        imageDirs: string[];
        maxMegapixels: number;
        farm: boolean;
      }
    >(
      "/api/info",
    ),
    loadRecipes(),
    refreshJobs(),
    refreshGallery(),
  ]);
  $("folders").textContent =
    `Recipes: ${info.recipesDir} · images: ${info.imageDirs.join(", ")} · ` +
    `outputs: ${info.outDir} · uploads up to ${info.maxMegapixels} megapixels`;
  if (location.hash.length > 1) watch(location.hash.slice(1));
  if (info.farm) {
    $("farm").hidden = false;
    $("submit-farm").hidden = false;
    await refreshQueue();
    setInterval(refreshQueue, 2000);
  }
  document.body.dataset.ready = "true";
  performance.mark("ready");
}

/** For tests and the curious: the editor and the page's actions. */
Object.assign(globalThis, {
  studio: {
    /** The editor, once loaded. */
    editorReady: ensureEditor,
    openEditor,
    openDroppedFile,
    showRecord,
  },
});

main().catch((e) => showError(`the page could not start: ${messageOf(e)}`));
