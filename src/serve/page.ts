/**
 * The single page of `deno task serve` (the studio): its HTML and style. Its script is
 * client/app.ts, bundled with the editor and served from /assets/app.js; nothing is loaded from
 * elsewhere.
 */

/** The page's HTML. */
export function renderPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stylepipe studio</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>stylepipe studio</h1>
  <p class="lead">Repaints a photo in the style of a painting (Gatys neural style transfer), by
  running a YAML recipe: choose a recipe and its images, press <b>Render</b>, and watch it
  converge. Drop any stylepipe PNG here to open the recipe that made it.</p>
  <p class="folders" id="folders"></p>
</header>
<main>
<section class="card" id="start-card">
  <h2>1 · Recipe</h2>
  <label class="field">Recipe
    <select id="recipe"><option value="">Choose a recipe…</option></select>
  </label>
  <p id="description" class="description empty">Choose a recipe to see what it does and the settings it takes.</p>
  <h2>2 · Settings</h2>
  <form id="vars-form" autocomplete="off"><p class="empty">The recipe's variables appear here,
  each with its default.</p></form>
  <div class="buttons">
    <button id="start" type="button" class="primary" disabled>Render</button>
    <button id="cancel" type="button" disabled>Cancel</button>
    <button id="edit" type="button" disabled>Edit recipe</button>
    <label class="upload button">Upload image…<input id="upload" type="file"
      accept="image/png,image/jpeg,image/webp" hidden></label>
  </div>
  <div id="error" class="error" role="alert"></div>
</section>
<section class="card" id="watch-card">
  <h2>3 · Live render <span id="job-id"></span></h2>
  <div id="status" class="status" data-status="none">No render yet. Choose a recipe and press
  Render: its preview and loss curve appear here as it optimizes.</div>
  <progress id="bar" max="100" value="0" hidden></progress>
  <div id="watch">
    <figure><div id="preview-box" class="placeholder">The preview appears after the first
      iterations.</div><img id="preview" alt="" data-iteration="0" hidden>
      <figcaption>Preview <span id="preview-it"></span></figcaption></figure>
    <figure><div id="loss" class="chart placeholder" data-points="0">The loss curve grows as
      the optimizer runs.</div><figcaption>Loss (log scale) by iteration</figcaption></figure>
  </div>
</section>
<section class="card wide" id="editor-card" hidden>
  <h2>Recipe editor <span id="editor-name"></span></h2>
  <div id="editor"></div>
  <div id="issues" class="issues" data-count="0"></div>
  <div class="buttons">
    <label class="field inline">Save as <input id="save-name" placeholder="my-recipe.yaml"
      size="24"></label>
    <button id="save" type="button">Save as</button>
    <button id="save-render" type="button" class="primary">Save and render</button>
    <button id="submit-farm" type="button" hidden>Submit to farm</button>
    <span id="save-status"></span>
  </div>
</section>
<section class="card wide">
  <h2>Renders</h2>
  <table id="jobs"><thead><tr><th>Job</th><th>Recipe</th><th>Settings</th><th>Status</th>
    <th>Result</th></tr></thead><tbody></tbody></table>
  <p id="jobs-empty" class="empty">No render started from this page yet.</p>
</section>
<section class="card wide">
  <h2>Outputs <small>(newest first; click one for its record)</small></h2>
  <div id="gallery"></div>
  <p id="gallery-empty" class="empty" hidden>No outputs yet: a finished render appears here
  with its record.</p>
</section>
<section class="card wide" id="record" hidden>
  <h2>Record of <span id="record-file"></span></h2>
  <div class="record-grid">
    <div>
      <table id="record-facts"><tbody></tbody></table>
      <h3>Inputs</h3>
      <table id="record-inputs"><thead><tr><th>File</th><th>Found in</th><th>SHA-256</th></tr>
        </thead><tbody></tbody></table>
      <div class="buttons">
        <button id="again" type="button" class="primary">Render again</button>
        <button id="verify" type="button">Verify</button>
        <button id="open-recipe" type="button">Open recipe</button>
      </div>
      <div id="record-status" class="status"></div>
      <h3>Before / after</h3>
      <label class="field inline">Compare with <select id="compare"></select></label>
      <div id="slider" class="slider">
        <img id="before" alt="before"><div id="after-clip"><img id="after" alt="after"></div>
        <input id="slider-range" type="range" min="0" max="100" value="50"
          aria-label="before/after position">
      </div>
    </div>
    <div>
      <div id="record-loss" class="chart"></div>
    </div>
  </div>
</section>
<section class="card wide" id="farm" hidden>
  <h2>Render farm</h2>
  <div id="farm-counts"></div>
  <table id="farm-jobs"><thead><tr><th>Job</th><th>State</th><th>Recipe</th><th>Progress</th>
    <th>Worker</th><th>Outputs</th><th>Reason</th></tr></thead><tbody></tbody></table>
  <p id="farm-empty" class="empty">The queue is empty.</p>
</section>
</main>
<div id="drop" hidden>Drop a stylepipe PNG to open the recipe that made it</div>
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;
}

const STYLE = `
  :root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; --bad: #b91c1c; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: var(--fg); background: #f3f4f6; }
  header { padding: 16px 24px 4px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 0 0 10px; }
  h3 { font-size: 13px; margin: 14px 0 6px; }
  .lead { margin: 0; max-width: 980px; }
  .folders { color: var(--muted); margin: 4px 0 0; font-size: 12px; }
  main { display: grid; grid-template-columns: minmax(320px, 380px) 1fr; gap: 16px; padding: 12px 24px 24px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
  .wide { grid-column: 1 / -1; }
  .field { display: flex; flex-direction: column; gap: 2px; margin: 0 0 8px; font-weight: 500; }
  .field.inline { flex-direction: row; align-items: center; gap: 6px; margin: 0; }
  .field small { color: var(--muted); font-weight: 400; }
  select, input, button { font: inherit; }
  input[type=text], input[type=number], select { padding: 4px 6px; border: 1px solid #d1d5db; border-radius: 4px; }
  .description { white-space: pre-wrap; background: #f9fafb; border-left: 3px solid var(--accent);
    padding: 6px 8px; margin: 0 0 14px; font-size: 13px; }
  .empty { color: var(--muted); font-style: italic; }
  .description.empty { border-left-color: var(--line); }
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-top: 10px; }
  button, .button { padding: 5px 12px; border: 1px solid #d1d5db; border-radius: 5px; background: #fff;
    cursor: pointer; font-weight: 500; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  button:disabled { opacity: .45; cursor: default; }
  .error { color: var(--bad); white-space: pre-wrap; font: 12px ui-monospace, monospace; margin-top: 8px; }
  .status { font-variant-numeric: tabular-nums; margin-bottom: 6px; }
  .status[data-status=failed] { color: var(--bad); }
  progress { width: 100%; height: 10px; margin-bottom: 10px; }
  #watch { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 16px; align-items: start; }
  figure { margin: 0; }
  figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
  #preview { width: 100%; height: auto; border-radius: 4px; display: block; }
  .placeholder { min-height: 200px; display: flex; align-items: center; justify-content: center;
    text-align: center; padding: 16px; border: 2px dashed var(--line); border-radius: 6px; color: var(--muted); }
  .chart { width: 100%; max-width: 560px; }
  .chart svg { width: 100%; height: auto; display: block; }
  table { border-collapse: collapse; width: 100%; }
  th { text-align: left; font-weight: 600; border-bottom: 1px solid var(--line); padding: 4px 10px 4px 0; }
  td { padding: 4px 10px 4px 0; border-bottom: 1px solid #f3f4f6; vertical-align: top; }
  td.mono, .mono { font: 12px ui-monospace, monospace; }
  #gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
  .thumb { border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; cursor: pointer; }
  .thumb.selected { outline: 2px solid var(--accent); }
  .thumb img { width: 100%; height: 120px; object-fit: cover; border-radius: 4px; display: block; }
  .thumb .name { font-size: 12px; overflow-wrap: anywhere; }
  .thumb .meta { font-size: 11px; color: var(--muted); }
  #editor { border: 1px solid #d1d5db; border-radius: 4px; max-height: 460px; overflow: auto; }
  #editor .cm-editor { max-height: 460px; }
  .issues { font: 12px ui-monospace, monospace; margin-top: 6px; }
  .issues .issue { color: var(--bad); cursor: pointer; }
  .issues .ok { color: #15803d; }
  .record-grid { display: grid; grid-template-columns: minmax(300px, 1fr) minmax(320px, 1fr); gap: 16px; }
  .slider { position: relative; width: 100%; max-width: 420px; margin-top: 6px; }
  .slider img { width: 100%; display: block; }
  #after-clip { position: absolute; inset: 0; overflow: hidden; clip-path: inset(0 0 0 50%); }
  #after-clip img { width: 100%; }
  .slider input { width: 100%; }
  #drop { position: fixed; inset: 0; background: rgba(37, 99, 235, .15); border: 4px dashed var(--accent);
    display: flex; align-items: center; justify-content: center; font-size: 22px; font-weight: 600; }
`;
