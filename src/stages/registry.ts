/** The stage registry: built-in stages plus those registered by plugins. */
import type { Stage } from "./stage.ts";

/** A set of stages addressable by name. */
export class StageRegistry {
  #stages = new Map<string, Stage<unknown>>();

  /** Adds a stage; a second stage with the same name is an error. */
  // deno-lint-ignore no-explicit-any
  register(stage: Stage<any>): void {
    if (this.#stages.has(stage.name)) {
      throw new Error(`stage "${stage.name}" is already registered`);
    }
    this.#stages.set(stage.name, stage);
  }

  /** The stage called `name`, if any. */
  get(name: string): Stage<unknown> | undefined {
    return this.#stages.get(name);
  }

  /** All stage names, sorted. */
  names(): string[] {
    return [...this.#stages.keys()].sort();
  }

  /** All stages, sorted by name. */
  all(): Stage<unknown>[] {
    return this.names().map((n) => this.#stages.get(n)!);
  }

  /** A copy (so a recipe's plugins do not leak into other runs). */
  clone(): StageRegistry {
    const r = new StageRegistry();
    for (const s of this.#stages.values()) r.register(s);
    return r;
  }
}
