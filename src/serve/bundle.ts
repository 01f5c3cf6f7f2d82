/**
 * The page's script: client/app.ts, and the CodeMirror editor (client/editor.ts) as a chunk loaded
 * when the editor is first opened, bundled by `deno bundle` from the local node_modules (installed
 * with the project's npm packages) the first time they are asked for, then kept in memory. The
 * page loads nothing from elsewhere.
 */
import { fileURLToPath } from "node:url";

let bundled: Promise<ReadonlyMap<string, string>> | undefined;

/**
 * The bundle's files by name (`app.js` and its chunks), built once per process; a failed build is
 * retried on the next call.
 */
export function pageScripts(): Promise<ReadonlyMap<string, string>> {
  bundled ??= build().catch((e) => {
    bundled = undefined;
    throw e;
  });
  return bundled;
}

async function build(): Promise<ReadonlyMap<string, string>> {
  if (Deno.build.standalone) {
    throw new Error("the studio's page is bundled by deno at start: run `deno task serve`");
  }
  const entry = fileURLToPath(new URL("./client/app.ts", import.meta.url));
  const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
  const out = await Deno.makeTempDir({ prefix: "stylepipe-page-" });
  try {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--code-splitting",
        "--config",
        config,
        "--outdir",
        out,
        entry,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`could not bundle the page's script: ${new TextDecoder().decode(stderr)}`);
    }
    const files = new Map<string, string>();
    for await (const e of Deno.readDir(out)) {
      if (e.isFile && e.name.endsWith(".js")) {
        files.set(e.name, await Deno.readTextFile(`${out}/${e.name}`));
      }
    }
    return files;
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
}
