import assert from "node:assert/strict";
import {
  parseCron,
  runSchedule,
  ScheduleError,
  timestampName,
} from "../../src/pipeline/schedule.ts";

Deno.test("per-second schedule fires on distinct whole seconds and stops when aborted", async () => {
  const stop = new AbortController();
  const due: Date[] = [];
  const started = Date.now();
  const runs = await runSchedule({
    cron: "* * * * * *",
    signal: stop.signal,
    render: (d) => {
      due.push(d);
      assert.ok(Date.now() >= d.getTime() - 5, "render starts at (not before) its time");
      if (due.length === 2) stop.abort();
      return Promise.resolve();
    },
  });
  assert.equal(runs, 2);
  assert.equal(due[0].getMilliseconds(), 0);
  assert.equal(due[1].getTime() - due[0].getTime(), 1000);
  assert.ok(Date.now() - started < 2500);
});

Deno.test("a render that outlasts the next occurrence skips it; abort while waiting is prompt", async () => {
  const stop = new AbortController();
  const due: number[] = [];
  const loop = runSchedule({
    cron: "* * * * * *",
    signal: stop.signal,
    render: async (d) => {
      due.push(d.getTime());
      if (due.length === 1) await new Promise((r) => setTimeout(r, 1300));
    },
  });
  while (due.length < 2) await new Promise((r) => setTimeout(r, 20));
  assert.ok(due[1] - due[0] >= 2000, `second occurrence ${due[1] - due[0]} ms later`);
  const t = Date.now();
  stop.abort();
  assert.equal(await loop, 2);
  assert.ok(Date.now() - t < 100);
});

Deno.test("cron expressions are checked; timestamps are file-name safe", () => {
  assert.throws(() => parseCron("every day"), ScheduleError);
  assert.throws(() => parseCron("0 0 31 2 *"), /never due/);
  assert.equal(parseCron("*/5 * * * * *").getPattern(), "*/5 * * * * *");
  assert.equal(timestampName(new Date("2026-11-26T08:30:05.123Z")), "20261126T083005Z");
});
