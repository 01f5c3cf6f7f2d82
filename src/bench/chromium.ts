/**
 * Drives a real headless Chromium over the DevTools protocol (a WebSocket, no library): launch it,
 * open a page, evaluate expressions in it, take screenshots. Used by tests/serve and serve-bench;
 * tests skip (with a message) where no Chromium exists.
 */
import { textStream } from "../util/text_stream.ts";

/** The Chromium binary here, if any (`$CHROMIUM`, then the Debian package's names). */
export function findChromium(): string | undefined {
  const candidates = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const c of candidates) {
    if (!c) continue;
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** A page in a headless Chromium. */
export interface BrowserPage {
  /** The value of `expression` evaluated in the page (awaited when it is a promise). */
  evaluate<T>(expression: string): Promise<T>;
  /** Saves a PNG of the viewport, or of the element `selector` names (scrolled or not). */
  screenshot(file: string, selector?: string): Promise<void>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Starts Chromium headless and opens `url`. */
export async function openPage(binary: string, url: string): Promise<BrowserPage> {
  const profile = await Deno.makeTempDir({ prefix: "stylepipe-chromium-" });
  const proc = new Deno.Command(binary, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const close = async () => {
    try {
      proc.kill("SIGKILL");
    } catch {
      // already gone
    }
    await proc.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  try {
    const wsUrl = await devToolsUrl(proc.stderr);
    const socket = new WebSocket(wsUrl);
    await new Promise((ok, fail) => {
      socket.onopen = ok;
      socket.onerror = () => fail(new Error(`cannot connect to ${wsUrl}`));
    });
    let nextId = 0;
    const pending = new Map<number, (m: Record<string, unknown>) => void>();
    socket.onmessage = (m) => {
      const message = JSON.parse(m.data);
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    };
    const send = (method: string, params: unknown = {}, sessionId?: string) =>
      new Promise<Record<string, unknown>>((ok, fail) => {
        const id = ++nextId;
        pending.set(id, (m) => m.error ? fail(new Error(JSON.stringify(m.error))) : ok(m));
        socket.send(JSON.stringify({ id, method, params, sessionId }));
      });
    const created = await send("Target.createTarget", { url: "about:blank" });
    const targetId = (created.result as { targetId: string }).targetId;
    const attached = await send("Target.attachToTarget", { targetId, flatten: true });
    const sessionId = (attached.result as { sessionId: string }).sessionId;
    await send(
      "Emulation.setDeviceMetricsOverride",
      { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    await send("Page.navigate", { url }, sessionId);
    return {
      async evaluate<T>(expression: string): Promise<T> {
        const r = await send(
          "Runtime.evaluate",
          { expression, awaitPromise: true, returnByValue: true },
          sessionId,
        );
        const result = r.result as { result: { value: T }; exceptionDetails?: unknown };
        if (result.exceptionDetails) {
          throw new Error(`page error: ${JSON.stringify(result.exceptionDetails)}`);
        }
        return result.result.value;
      },
      async screenshot(file: string, selector?: string) {
        let clip;
        if (selector) {
          const r = await send("Runtime.evaluate", {
            expression: `(() => { const b = document.querySelector(${JSON.stringify(selector)})
              .getBoundingClientRect(); return { x: b.left + scrollX, y: b.top + scrollY,
              width: b.width, height: b.height, scale: 1 }; })()`,
            returnByValue: true,
          }, sessionId);
          clip = (r.result as { result: { value: unknown } }).result.value;
        }
        const r = await send(
          "Page.captureScreenshot",
          { format: "png", clip, captureBeyondViewport: clip !== undefined },
          sessionId,
        );
        const data = (r.result as { data: string }).data;
        await Deno.writeFile(file, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
      },
      async close() {
        socket.close();
        await close();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Reads Chromium's stderr until it prints its DevTools WebSocket address (10 s at most). */
async function devToolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = textStream(stderr).getReader();
  let text = "";
  const timeout = setTimeout(() => reader.cancel(), 10_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`Chromium printed no DevTools address:\n${text}`);
      text += value;
      const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) {
        // Keep draining stderr so Chromium never blocks on a full pipe.
        (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
        })();
        return m[1];
      }
    }
  } finally {
    clearTimeout(timeout);
  }
}
