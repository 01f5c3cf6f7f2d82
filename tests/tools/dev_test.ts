/** `deno task dev`: the development tools behind one entry point; `deno task` lists the user's. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { toolCommand, TOOLS } from "../../tools/dev.ts";
import { repo } from "../cli/_cli.ts";

async function dev(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--deny-import", join(repo, "tools/dev.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("every dev tool's script exists, and none is a task of its own", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(join(repo, "deno.json"))).tasks;
  for (const [name, tool] of Object.entries(TOOLS)) {
    assert.ok((await Deno.stat(join(repo, tool.script))).isFile, tool.script);
    assert.equal(tasks[name], undefined, `"${name}" is under deno task dev`);
  }
  assert.equal(tasks.dev, "deno run -A --deny-import tools/dev.ts");
  assert.deepEqual(toolCommand("gpu-session", ["check"]).slice(0, 1), ["bash"]);
});

Deno.test("deno task lists only what users run: the CLI's commands, dev, compile and test", async () => {
  const tasks: Record<string, string> = JSON.parse(
    await Deno.readTextFile(join(repo, "deno.json")),
  ).tasks;
  for (const [name, command] of Object.entries(tasks)) {
    if (["dev", "compile", "test"].includes(name)) continue;
    assert.equal(
      command,
      `deno run -A --deny-import mod.ts ${name}`,
      `task "${name}" is not a stylepipe command: add it to TOOLS in tools/dev.ts instead`,
    );
  }
});

Deno.test("dev: --help lists the tools, a misspelt tool gets a did-you-mean, a tool's --help is its own", async () => {
  const help = await dev("--help");
  assert.equal(help.code, 0);
  for (const name of Object.keys(TOOLS)) assert.match(help.stdout, new RegExp(`^  ${name} `, "m"));
  const typo = await dev("swep");
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown tool "swep" \(did you mean "sweep"\?\)/);
  const sweep = await dev("border", "--help");
  assert.equal(sweep.code, 0, sweep.stderr);
  assert.match(sweep.stdout, /Usage: deno task dev border/);
});
