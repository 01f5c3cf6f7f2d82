/** The `cpu` engine: tfjs' plain-JavaScript backend, the reference all other engines are compared to. */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import "npm:@tensorflow/tfjs-backend-cpu@4.22.0";
import { EngineUnavailableError } from "../engine.ts";
import { TfjsEngine, type TfjsEngineProvider } from "./engine.ts";

/** Provider of the `cpu` engine (always available). */
export const tfjsCpuProvider: TfjsEngineProvider = {
  name: "cpu",
  available: () => Promise.resolve(true),
  async create() {
    if (!await tf.setBackend("cpu")) {
      throw new EngineUnavailableError("cpu", "the tfjs cpu backend failed to initialize");
    }
    // The cpu backend prints a "you are running in Node.js, install tfjs-node" banner on first use;
    // engines never print (the CLI reports), and tfjs-node is an engine of its own here.
    (tf.findBackend("cpu") as unknown as { firstUse: boolean }).firstUse = false;
    return new TfjsEngine({
      name: "cpu",
      backend: "cpu",
      description: `tfjs ${tf.version_core} cpu backend (JavaScript)`,
      convInputGrad: "builtin",
    });
  },
};
