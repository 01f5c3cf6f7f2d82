/**
 * A plugin for the farm trust tests: `hang` never finishes and ignores the abort signal. Importing
 * it writes the file named by $STYLEPIPE_TEST_PLUGIN_MARK (to prove whether it was loaded).
 */
import { z } from "zod";
import type { Stage } from "../../../src/stages/stage.ts";

const mark = Deno.env.get("STYLEPIPE_TEST_PLUGIN_MARK");
if (mark) Deno.writeTextFileSync(mark, "imported");

const params = z.object({}).strict();

/** The `hang` stage: a promise that never settles. */
const hangStage: Stage<z.infer<typeof params>> = {
  name: "hang",
  version: 1,
  description: "Never finishes (test plugin)",
  params,
  inputs: {},
  output: "image",
  run: () => new Promise(() => {}),
};

export default hangStage;
