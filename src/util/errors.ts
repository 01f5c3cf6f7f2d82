/**
 * The base of stylepipe's error classes: an error a user can act on, whose `name` is its class's
 * name (so every subclass is one line, and messages print as `RecipeError: …`).
 */
export class StylepipeError extends Error {
  /** @param message what went wrong and, where possible, how to fix it */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
