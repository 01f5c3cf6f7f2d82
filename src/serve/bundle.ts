/**
 * The page's script: client/app.ts with the CodeMirror editor, bundled by `deno bundle` from the
 * local node_modules (installed with the project's npm packages) the first time it is asked for,
 * then kept in memory. The page loads nothing from elsewhere.
 */
import { fileURLToPath } from "node:url";

let bundled: Promise<string> | undefined;

/** The bundled script (built once per process; a failed build is retried on the next call). */
export function pageScript(): Promise<string> {
  bundled ??= build().catch((e) => {
    bundled = undefined;
    throw e;
  });
  return bundled;
}

async function build(): Promise<string> {
  if (Deno.build.standalone) {
    throw new Error("the studio's page is bundled by deno at start: run `deno task serve`");
  }
  const entry = fileURLToPath(new URL("./client/app.ts", import.meta.url));
  const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
  const out = await Deno.makeTempFile({ prefix: "stylepipe-page-", suffix: ".js" });
  try {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--config",
        config,
        "-o",
        out,
        entry,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`could not bundle the page's script: ${new TextDecoder().decode(stderr)}`);
    }
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}
