/**
 * The registry cannot leak: 10,000 connect/disconnect cycles end with an
 * empty registry, and the heap does not grow with the number of cycles.
 *
 * What is measured: `heapUsed` after a forced GC (several rounds) once 2,000
 * cycles have run (warm: code compiled, pools sized) and again after 10,000,
 * in a child process of the running runtime that can force GC. A leaked
 * connection costs kilobytes (task, actor, writer, context, transport
 * buffers), so 8,000 leaked connections would add tens of MB; the bound below
 * (4 MB, ~500 bytes a cycle) is generous for allocator noise and still far
 * under that. Timing is not measured.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./_leak_cycles.ts", import.meta.url));
const MAX_GROWTH_BYTES = 4 * 1024 * 1024;

interface Sample {
  cycles: number;
  heapUsed: number;
  registrySize: number;
  active: number;
}

function runCycles(args: string[]): Promise<{ samples: Sample[]; weakRefCleared: boolean }> {
  // Each runtime's way to a forced GC: a V8 flag on Deno and Node, Bun.gc() on Bun.
  const argv = "Deno" in globalThis
    ? ["run", "--allow-all", "--v8-flags=--expose-gc", SCRIPT, ...args]
    : "Bun" in globalThis
    ? [SCRIPT, ...args]
    : ["--expose-gc", SCRIPT, ...args];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`leak script failed: ${error.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
      } catch (e) {
        reject(new Error(`unexpected output: ${stdout}\n${stderr}`, { cause: e }));
      }
    });
  });
}

test("10,000 connect/disconnect cycles: empty registry, and the heap does not grow with the cycles", async () => {
  const { samples, weakRefCleared } = await runCycles(["10000", "2000", "6000", "10000"]);
  assert.deepEqual(samples.map((s) => s.cycles), [2000, 6000, 10000]);
  for (const s of samples) {
    assert.equal(s.registrySize, 0, `registry empty after ${s.cycles} cycles`);
    assert.equal(s.active, 0, `no connection left after ${s.cycles} cycles`);
  }
  const [warm, , last] = samples as [Sample, Sample, Sample];
  const growth = last.heapUsed - warm.heapUsed;
  assert.ok(
    growth < MAX_GROWTH_BYTES,
    `heap grew by ${growth} bytes over 8,000 cycles (${warm.heapUsed} → ${last.heapUsed})`,
  );
  assert.equal(weakRefCleared, true, "an unreferenced handle is swept from the registry");
});
