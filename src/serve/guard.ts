/**
 * Who may call the server (issue 22 §5): the Host header must name the bound address (a page on
 * another site reached through DNS rebinding carries its own host name), an Origin header must be
 * the server's own (a foreign page's requests carry theirs), a POST must say it is JSON (a form or
 * a `text/plain` fetch from elsewhere cannot without a CORS preflight, which the server never
 * grants), and, when the server listens beyond loopback, every API call and event stream must
 * carry the token (`Authorization: Bearer T`, or `?token=T` where a browser cannot set headers).
 */

/** The address the server listens on and its token (required beyond loopback). */
export interface GuardOptions {
  readonly hostname: string;
  readonly port: number;
  readonly token?: string;
}

/** Whether `hostname` names this machine only. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** A fresh random token (128 bits, hex). */
export function newToken(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** The refusal of `request`, or undefined when it may proceed. */
export function refusal(request: Request, url: URL, options: GuardOptions): Response | undefined {
  const host = request.headers.get("host");
  if (!host || !allowedHost(host, options)) {
    return refuse(421, `this server answers only to its own address, not Host "${host ?? ""}"`);
  }
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== `http://${host}`) {
    return refuse(403, `requests from other sites are refused (Origin "${origin}")`);
  }
  if (!url.pathname.startsWith("/api/")) return undefined;
  if (request.method !== "GET" && request.method !== "HEAD") {
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return refuse(415, `send JSON (Content-Type: application/json), not "${type}"`);
    }
  }
  if (options.token !== undefined) {
    const given = request.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ??
      url.searchParams.get("token") ?? "";
    if (!sameText(given, options.token)) {
      return refuse(401, "this server needs its token: open the address it printed (…/?token=…)");
    }
  }
  return undefined;
}

/** The host names the server answers to: the bound one (any, when bound to every address). */
function allowedHost(header: string, options: GuardOptions): boolean {
  const m = header.match(/^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/);
  if (!m) return false;
  const [name, port] = [m[1].toLowerCase(), Number(m[2] ?? 80)];
  if (port !== options.port) return false;
  const bound = options.hostname.toLowerCase();
  if (bound === "0.0.0.0" || bound === "::" || bound === "[::]") return true;
  if (isLoopback(bound)) return isLoopback(name);
  return name.replace(/^\[|\]$/g, "") === bound.replace(/^\[|\]$/g, "");
}

/** Compares in time independent of where the texts differ. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.charCodeAt(i) || 0) ^ b.charCodeAt(i);
  return diff === 0;
}

function refuse(status: number, error: string): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
