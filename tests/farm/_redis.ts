/**
 * A real redis-server for a test: its own process on a free loopback port, its own data folder,
 * stopped (and restartable on the same port, keeping its append-only file) by the test.
 */
/** Whether `redis-server` is installed (`.ci/run` installs Debian's). */
export const hasRedis = await new Deno.Command("redis-server", { args: ["--version"] })
  .output().then((o) => o.success, () => false);

/** Why redis tests are skipped when there is no server (printed by the tests' `ignore`). */
export const NO_REDIS = "redis-server not installed (apt-get install redis-server); skipping";

/** A redis-server the test owns. */
export class TestRedis {
  #proc?: Deno.ChildProcess;
  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly password?: string,
  ) {}

  /** `redis://127.0.0.1:PORT` (with `:PASSWORD@` when the server requires one). */
  get url(): string {
    const auth = this.password === undefined ? "" : `:${encodeURIComponent(this.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  /**
   * Starts a server on a free port (append-only file, fsync on every write: nothing is lost on
   * restart), requiring `password` (`requirepass`) when given.
   */
  static async start(password?: string): Promise<TestRedis> {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-redis-" });
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const redis = new TestRedis(port, dir, password);
    await redis.restart();
    return redis;
  }

  /** Starts the server (again) on the same port and data folder; resolves once it accepts connections. */
  async restart(): Promise<void> {
    this.#proc = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
        ...(this.password === undefined ? [] : ["--requirepass", this.password]),
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        const auth = this.password === undefined ? "" : `AUTH ${this.password}\r\n`;
        await conn.write(new TextEncoder().encode(`${auth}PING\r\n`));
        let reply = "";
        const buf = new Uint8Array(64);
        while (!reply.includes("PONG") && !reply.includes("-")) {
          const n = await conn.read(buf);
          if (!n) break;
          reply += new TextDecoder().decode(buf.subarray(0, n));
        }
        conn.close();
        if (reply.includes("+PONG")) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Stops the server (SIGTERM: it flushes its append-only file first) and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc) return;
    proc.kill("SIGTERM");
    await proc.status;
  }

  /** Stops the server and removes its data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
