/** docs/stages.md is the generator's output for the built-in stages (regenerate after a change). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { STAGES_DOC, stagesMarkdown } from "../../src/cli/stages.ts";
import { builtinStages } from "../../src/stages/builtin.ts";
import { repo } from "./_cli.ts";

Deno.test("docs/stages.md is up to date (deno task stages --markdown --out docs/stages.md)", async () => {
  const committed = await Deno.readTextFile(join(repo, STAGES_DOC));
  const generated = stagesMarkdown(builtinStages()) + "\n";
  assert.equal(committed, generated, "run: deno task stages --markdown --out docs/stages.md");
  for (const stage of builtinStages().all()) {
    assert.match(committed, new RegExp(`^## \`${stage.name}\`$`, "m"));
  }
});
