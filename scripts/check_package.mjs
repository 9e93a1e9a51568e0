#!/usr/bin/env node
// The npm package as a user gets it: build and pack it (scripts/build.mjs),
// install the tarball into a scratch project in a temp folder, then
//   - import it from plain JavaScript on Node.js, Bun and Deno (Deno by an
//     npm: specifier), each serving and answering a request over TCP;
//   - type-check a TypeScript file against its .d.ts with tsc;
//   - run its `wireframe-ts` command with npx and bunx: --help, then
//     `echo --port 0` answering a raw echo frame and exiting 0 on Ctrl-C.
// Every step is bounded in time. Prints "ok: ..." per check, and exits
// non-zero if any failed. Run with node_modules/.bin first on PATH (as .ci/run does).
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const scratch = mkdtempSync(join(tmpdir(), "wireframe-package-"));
const STEP_MS = 120_000;
const failures = [];

const MAIN_JS = `
import assert from "node:assert/strict";
import { WireframeApp, WireframeClient, WireframeServer } from "SPEC";
const app = new WireframeApp().route(1, (req) => req.payload);
const server = new WireframeServer(app);
const { hostname, port } = await server.listen({ port: 0 });
const client = await WireframeClient.connect({ hostname, port });
const reply = await client.request(1, new TextEncoder().encode("from the tarball"));
assert.equal(new TextDecoder().decode(reply.payload), "from the tarball");
await client.close();
await server.shutdown();
console.log("served over", server.addr?.transport ?? "tcp");
`;

const MAIN_TS = `
import { WireframeApp, WireframeServer, type Envelope } from "@wireframe/wireframe";
import { nodeTransport } from "@wireframe/wireframe/node";
import { LengthDelimitedCodec } from "@wireframe/wireframe/codec";
const app = new WireframeApp().route(1, (req: Envelope) => req.payload);
const server: WireframeServer = new WireframeServer(app, { transport: nodeTransport });
void server;
void LengthDelimitedCodec;
// @ts-expect-error: the types are real, so a wrong call is an error
new WireframeServer(app, { transport: 42 });
`;

/** Run a command to its end (bounded); resolves with its status and output. */
function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: scratch, timeout: STEP_MS, ...options }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
        stdout,
        stderr,
      });
    });
  });
}

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok: ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`FAILED: ${name}\n${err instanceof Error ? err.message : err}`);
  }
}

async function expectRun(cmd, args, expected, options) {
  const result = await run(cmd, args, options);
  if (result.code !== 0 || (expected && !expected.test(result.stdout))) {
    throw new Error(
      `${cmd} ${args.join(" ")}: exit ${result.code}\n${result.stdout}${result.stderr}`,
    );
  }
}

/** One request in the default wire format: length, id 1, flags 1, correlation 7, payload. */
function echoFrame(payload) {
  const body = Buffer.alloc(13 + payload.length);
  body.writeUInt32BE(1, 0);
  body.writeUInt8(1, 4);
  body.writeBigUInt64BE(7n, 5);
  payload.copy(body, 13);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/**
 * Start `cmd args` (a `wireframe-ts echo`) in a process group of its own, echo one frame
 * through it, then SIGINT the group, as Ctrl-C in a terminal does: exit 0.
 */
async function serveEcho(cmd, args, { npmSignal = false } = {}) {
  const child = spawn(cmd, args, {
    cwd: scratch,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal))
  );
  const timer = setTimeout(() => process.kill(-child.pid, "SIGKILL"), STEP_MS);
  try {
    const port = await new Promise((resolve, reject) => {
      const onData = (chunk) => {
        output += chunk;
        const match = /listening on \S+:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", (chunk) => (output += chunk));
      exited.then((code) => reject(new Error(`exited early (${code}): ${output}`)));
    });
    const request = echoFrame(Buffer.from("raw echo"));
    const reply = await new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      let got = Buffer.alloc(0);
      socket.on("data", (chunk) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= request.length) {
          socket.end();
          resolve(got);
        }
      });
      socket.on("error", reject);
      socket.write(request);
    });
    if (!reply.equals(request)) throw new Error(`echoed ${reply.toString("hex")}`);
    process.kill(-child.pid, "SIGINT");
    const code = await exited;
    // npm exec re-raises the signal its child got once the child has exited, as shells do.
    if (code !== 0 && !(npmSignal && code === "SIGINT")) {
      throw new Error(`exit ${code} after Ctrl-C: ${output}`);
    }
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
  }
}

try {
  const built = execFileSync("node", [join(root, "scripts", "build.mjs"), "--pack", scratch], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const tarball = built.trim().split("\n").at(-1);
  console.log(`packed: ${tarball}`);
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({
      name: "scratch",
      private: true,
      type: "module",
      dependencies: { "@wireframe/wireframe": `file:${tarball}` },
    }),
  );
  writeFileSync(join(scratch, "main.mjs"), MAIN_JS.replace("SPEC", "@wireframe/wireframe"));
  writeFileSync(
    join(scratch, "main_deno.mjs"),
    MAIN_JS.replace("SPEC", "npm:@wireframe/wireframe"),
  );
  writeFileSync(join(scratch, "main.ts"), MAIN_TS);
  writeFileSync(
    join(scratch, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        target: "es2023",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ["main.ts"],
    }),
  );

  await check(
    "npm install of the tarball (its dependencies from the npm cache)",
    () => expectRun("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"]),
  );
  await check(
    "Node.js imports the built JavaScript and serves",
    () => expectRun(bin("node"), ["main.mjs"], /served over/),
  );
  await check(
    "Bun imports the package and serves",
    () => expectRun(bin("bun"), ["main.mjs"], /served over/),
  );
  await check(
    "Deno imports it by an npm: specifier and serves",
    () => expectRun(bin("deno"), ["run", "--allow-all", "main_deno.mjs"], /served over/),
  );
  await check(
    "tsc type-checks an app against the package's .d.ts",
    () => expectRun(bin("tsc"), ["-p", "tsconfig.json"]),
  );
  await check(
    "npx wireframe-ts --help",
    () => expectRun("npx", ["--no-install", "wireframe-ts", "--help"], /Usage: wireframe-ts/),
  );
  await check(
    "bunx wireframe-ts --help",
    () => expectRun(bin("bunx"), ["wireframe-ts", "--help"], /Usage: wireframe-ts/),
  );
  await check(
    "npx wireframe-ts echo serves an echo and ends on Ctrl-C",
    () =>
      serveEcho("npx", ["--no-install", "wireframe-ts", "echo", "--port", "0"], {
        npmSignal: true,
      }),
  );
  await check(
    "node_modules/.bin/wireframe-ts echo (on Node) serves an echo and exits 0 on Ctrl-C",
    () => serveEcho(join(scratch, "node_modules", ".bin", "wireframe-ts"), ["echo", "--port", "0"]),
  );
  await check(
    "bunx --bun wireframe-ts echo (on Bun) serves an echo and exits 0 on Ctrl-C",
    () => serveEcho(bin("bunx"), ["--bun", "wireframe-ts", "echo", "--port", "0"]),
  );
} catch (err) {
  failures.push("build");
  console.log(`FAILED: build and pack\n${err instanceof Error ? err.message : err}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.log(`package checks failed: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("package checks passed");
