/**
 * The single page of `deno task serve`: start a recipe (with --set values), watch the running
 * render's preview and loss curve update live (server-sent events), see the jobs and the recent
 * outputs. Plain HTML and script; no build step, nothing loaded from elsewhere.
 */

/** The page's HTML. */
export function renderPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>stylepipe</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111827; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  h2 { font-size: 15px; margin: 24px 0 8px; }
  form { display: flex; gap: 8px; align-items: flex-start; flex-wrap: wrap; }
  textarea { width: 260px; height: 48px; font: 12px monospace; }
  #error { color: #b91c1c; white-space: pre-wrap; font: 12px monospace; }
  #watch { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
  #preview { image-rendering: pixelated; width: 320px; background: #f3f4f6; min-height: 120px; }
  #loss { width: 560px; background: #f9fafb; min-height: 120px; }
  table { border-collapse: collapse; } td, th { padding: 2px 10px 2px 0; text-align: left; }
  .thumb { height: 48px; }
</style>
</head>
<body>
<h1>stylepipe</h1>
<form id="start-form">
  <label>recipe <select id="recipe"></select></label>
  <label>--set (one per line) <textarea id="sets" placeholder="size=256"></textarea></label>
  <button id="start" type="submit">Render</button>
</form>
<div id="error"></div>
<h2>Watching <span id="job-id"></span></h2>
<div id="status">no render selected</div>
<div id="watch">
  <img id="preview" alt="preview" data-iteration="0">
  <img id="loss" alt="loss curve" data-points="0">
</div>
<button id="cancel" type="button" disabled>Cancel</button>
<h2>Renders</h2>
<table id="jobs"><tbody></tbody></table>
<h2>Recent outputs</h2>
<table id="recent"><tbody></tbody></table>
<section id="farm" hidden>
<h2>Render farm queue</h2>
<div id="farm-counts"></div>
<table id="farm-jobs"><tbody></tbody></table>
</section>
<script type="module">
const $ = (id) => document.getElementById(id);
let source, watching;

async function getJson(url, init) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ?? r.statusText);
  return body;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.append(c); else td.textContent = c;
    tr.append(td);
  }
  return tr;
}

async function refreshLists() {
  const jobs = await getJson("/api/renders");
  $("jobs").tBodies[0].replaceChildren(...jobs.map((j) => {
    const link = document.createElement("a");
    link.href = "#" + j.id;
    link.textContent = j.id;
    link.onclick = () => watch(j.id);
    return row([link, j.recipe, j.sets.join(" "), j.status, j.outputs.join(", ")]);
  }));
  const recent = await getJson("/api/outputs");
  $("recent").tBodies[0].replaceChildren(...recent.map((o) => {
    const img = document.createElement("img");
    img.className = "thumb";
    img.src = "/api/outputs/" + encodeURIComponent(o.file);
    return row([img, o.file, o.recipe, o.modified, o.finalLoss?.toPrecision(4) ?? ""]);
  }));
}

function show(job) {
  const p = job.progress;
  $("status").textContent = job.status +
    (p ? " | " + p.step + (p.iteration !== undefined ? " it " + p.iteration + "/" + p.total : "") +
      (p.loss !== undefined ? " | loss " + p.loss.toPrecision(4) : "") : "") +
    (job.error ? " | " + job.error : "");
  $("status").dataset.status = job.status;
  $("cancel").disabled = !["queued", "running"].includes(job.status);
  const base = "/api/renders/" + job.id;
  if (job.previewIteration) {
    swap($("preview"), "iteration", job.previewIteration, base + "/preview.png?it=");
  }
  if (job.lossPoints) swap($("loss"), "points", job.lossPoints, base + "/loss.svg?n=");
  if (!["queued", "running"].includes(job.status)) refreshLists();
}

// An image is replaced only once its next version has loaded (no flicker, no half-loaded frames);
// while one loads, only the newest wanted version is remembered. data-<key> names what is shown.
const loading = new Map();
function swap(img, key, value, url) {
  const state = loading.get(img) ?? { busy: false, wanted: 0 };
  loading.set(img, state);
  state.wanted = value;
  if (state.busy || String(value) === img.dataset[key]) return;
  state.busy = true;
  const next = new Image();
  const done = () => {
    state.busy = false;
    if (state.wanted !== value) swap(img, key, state.wanted, url);
  };
  next.onload = () => {
    img.src = next.src;
    img.dataset[key] = String(value);
    done();
  };
  next.onerror = done;
  next.src = url + value;
}

function watch(id) {
  source?.close();
  watching = id;
  $("job-id").textContent = id;
  $("preview").dataset.iteration = "0";
  $("loss").dataset.points = "0";
  loading.clear();
  source = new EventSource("/api/renders/" + id + "/events");
  source.onmessage = (m) => {
    const update = JSON.parse(m.data);
    if (update.type === "job" && update.job.id === watching) show(update.job);
  };
  source.onerror = () => source.close();
}

$("start-form").onsubmit = async (e) => {
  e.preventDefault();
  $("error").textContent = "";
  try {
    const sets = $("sets").value.split("\\n").map((s) => s.trim()).filter(Boolean);
    const job = await getJson("/api/renders", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ recipe: $("recipe").value, sets }),
    });
    watch(job.id);
    refreshLists();
  } catch (err) {
    $("error").textContent = err.message;
  }
};
$("cancel").onclick = () => fetch("/api/renders/" + watching + "/cancel", { method: "POST" });

async function refreshQueue() {
  const r = await fetch("/api/queue");
  if (r.status === 404) return false;
  const snap = await r.json();
  $("farm").hidden = false;
  if (!r.ok) {
    $("farm-counts").textContent = snap.error;
    return true;
  }
  $("farm-counts").textContent = Object.entries(snap.counts).map(([k, n]) => k + " " + n).join(" · ");
  $("farm-jobs").tBodies[0].replaceChildren(...snap.jobs.map((j) => {
    const p = j.progress ?? {};
    const figures = p.step ? p.step + (p.iteration !== undefined ? " it " + p.iteration + "/" + p.total : "") +
      (p.loss !== undefined ? " | loss " + p.loss.toPrecision(4) : "") : "";
    return row([j.id.slice(0, 12), j.state, j.recipe.split("/").at(-1), figures, j.worker ?? "",
      (j.outputs ?? []).join(", "), j.failedReason ?? ""]);
  }));
  document.body.dataset.queue = "shown";
  return true;
}

const recipes = await getJson("/api/recipes");
$("recipe").replaceChildren(...recipes.map((r) => new Option(r, r)));
await refreshLists();
if (location.hash.length > 1) watch(location.hash.slice(1));
if (await refreshQueue()) setInterval(refreshQueue, 2000);
document.body.dataset.ready = "true";
</script>
</body>
</html>
`;
}
