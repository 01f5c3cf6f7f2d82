/**
 * A plugin for the farm's stop test: `spin` blocks its process's event loop forever in a
 * synchronous loop (no signal handler can run). Before spinning it writes its process id to the
 * file named by $STYLEPIPE_TEST_SPIN_MARK.
 */
import { z } from "zod";
import type { Stage } from "../../../src/stages/stage.ts";

const params = z.object({}).strict();

/** The `spin` stage: `while (true) {}`. */
const spinStage: Stage<z.infer<typeof params>> = {
  name: "spin",
  version: 1,
  description: "Spins forever in a synchronous loop (test plugin)",
  params,
  inputs: { image: { kind: "image", description: "never used" } },
  output: "image",
  run: () => {
    const mark = Deno.env.get("STYLEPIPE_TEST_SPIN_MARK");
    if (mark) Deno.writeTextFileSync(mark, String(Deno.pid));
    while (true) {
      // spin
    }
  },
};

export default spinStage;
