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
  private constructor(readonly port: number, readonly dir: string) {}

  /** `redis://127.0.0.1:PORT`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port (append-only file, fsync on every write: nothing is lost on restart). */
  static async start(): Promise<TestRedis> {
    const dir = await Deno.makeTempDir({ prefix: "stylepipe-redis-" });
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const redis = new TestRedis(port, dir);
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
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buf = new Uint8Array(16);
        const n = await conn.read(buf);
        conn.close();
        if (n && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG")) return;
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
