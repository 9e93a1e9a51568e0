/**
 * The `wireframe-ts` command (bin/wireframe_ts.ts), run as a process of the
 * runtime running the test: `--help`, a refused command, and a subcommand
 * serving real requests until SIGTERM.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { WireframeClient } from "../../mod.ts";
import { COMMANDS, exampleFile } from "../../bin/wireframe_ts.ts";
import { deadline, signal } from "../e2e/_helpers.ts";

const CLI = fileURLToPath(new URL("../../bin/wireframe_ts.ts", import.meta.url));
const argv = (args: string[]) =>
  "Deno" in globalThis ? ["run", "--allow-all", CLI, ...args] : [CLI, ...args];

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, argv(args), { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

test("wireframe-ts --help lists every subcommand and exits 0; each one's example exists", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: wireframe-ts COMMAND/);
  for (const [name, command] of Object.entries(COMMANDS)) {
    assert.match(stdout, new RegExp(`^  ${name} `, "m"), `--help lists ${name}`);
    assert.ok(existsSync(exampleFile(command)), `${name} runs ${exampleFile(command)}`);
  }
  for (const name of ["echo", "push", "fragment-echo"]) assert.ok(name in COMMANDS);
});

test("wireframe-ts with an unknown command, or none, exits 2 with the usage on stderr", async () => {
  const unknown = await runCli(["no-such-server"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'no-such-server'/);
  assert.match(unknown.stderr, /Usage: wireframe-ts/);
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: wireframe-ts/);
});

test("wireframe-ts echo --port 0 serves echoes with the example's CLI, and exits 0 on SIGTERM", async () => {
  const child = spawn(process.execPath, argv(["echo", "--port", "0"]), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const listening = signal<{ hostname: string; port: number }>();
  let stdout = "";
  let stderr = "";
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
        exited.then((code) => {
          throw new Error(`wireframe-ts echo exited early (${code}): ${stderr}`);
        }),
      ]),
      "wireframe-ts echo's 'listening on' line",
      30_000,
    );
    assert.equal(hostname, "127.0.0.1");
    await using client = await WireframeClient.connect({ hostname, port });
    const reply = await client.request(1, new TextEncoder().encode("through the CLI"));
    assert.equal(new TextDecoder().decode(reply.payload), "through the CLI");
    // SIGTERM to the CLI reaches the server, which shuts down gracefully; its status is the CLI's.
    process.kill(child.pid!, "SIGTERM");
    assert.equal(await deadline(exited, "wireframe-ts to exit after SIGTERM", 30_000), 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});
