/** examples/echo_server.ts as a real process on the current runtime: serve, then SIGTERM. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { WireframeClient } from "../../src/client/client.ts";
import { deadline, readU32, signal, str, text, u32 } from "./_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const isDeno = "Deno" in globalThis;

test("the echo server example serves an echo and a stream, and exits 0 on SIGTERM", async () => {
  const args = isDeno
    ? ["run", "-A", "examples/echo_server.ts", "--port", "0"]
    : ["examples/echo_server.ts", "--port", "0"];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, sig) => resolve({ code, signal: sig }))
  );
  let stdout = "";
  let stderr = "";
  const listening = signal<{ hostname: string; port: number }>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    const match = /listening on (\S+):(\d+)/.exec(stdout);
    if (match) listening.resolve({ hostname: match[1]!, port: Number(match[2]) });
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  try {
    const { hostname, port } = await deadline(
      Promise.race([
        listening.promise,
        exited.then(({ code }) => {
          throw new Error(`echo server exited early (${code}): ${stderr}`);
        }),
      ]),
      "the 'listening on' line",
      30_000,
    );
    const client = await WireframeClient.connect({ hostname, port });
    try {
      assert.equal(
        str((await client.request(1, text("over a real socket"))).payload),
        "over a real socket",
      );
      const counted: number[] = [];
      for await (const f of client.stream(2, u32(3), { isEnd: (f) => readU32(f.payload) === 2 })) {
        counted.push(readU32(f.payload));
      }
      assert.deepEqual(counted, [0, 1, 2]);
    } finally {
      await client.close();
    }
    // process.kill rather than child.kill: Deno's node:child_process reports the signal given
    // to child.kill() as the cause of exit even when the child handles it and exits 0.
    process.kill(child.pid!, "SIGTERM");
    const { code } = await deadline(exited, "the server to exit after SIGTERM", 30_000);
    assert.equal(code, 0, `exit code 0 after SIGTERM (stderr: ${stderr})`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  }
});
