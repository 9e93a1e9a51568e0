/**
 * A newcomer's first hour, as a test: an app in a folder of its own, outside this repository,
 * imports the library the ways README's "Install and import" shows (its `deno.json` and
 * `package.json` blocks, read from the README) and serves a request, on the runtime that runs this
 * test. The checkout sits beside the app as `../wireframe` (a link to this repository, whose
 * `npm install` is done), as a clone would. Nothing is downloaded: zod resolves from the checkout's
 * own node_modules.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { deadline } from "./_helpers.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const onDeno = "Deno" in globalThis;
/** Process start, install and (on Deno) a type check of the library from cold: generous, bounded. */
const RUN_GUARD_MS = 120_000;

/** The app: a server and a client over loopback TCP, through the root module and two subpaths. */
const MAIN_TS =
  `import { WireframeApp, WireframeClient, WireframeServer } from "@wireframe/wireframe";
import { LengthDelimitedCodec } from "@wireframe/wireframe/codec";
import { LenFlag32K } from "@wireframe/wireframe/fragment";

const codec = new LengthDelimitedCodec({ maxFrameLength: 4096 });
const strategy = new LenFlag32K({ maxFragmentPayload: 8 }); // every message in 8-byte fragments
const app = new WireframeApp().codec(codec).fragmentation(strategy).route(1, (req) => req.payload);

// try/finally rather than \`await using\`, which Node.js 22 cannot parse.
const server = new WireframeServer(app);
try {
  const { port } = await server.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await WireframeClient.connect({ port, codec, fragmentation: { strategy } });
  try {
    const reply = await client.request(1, new TextEncoder().encode("served by ../wireframe"));
    console.log(new TextDecoder().decode(reply.payload));
  } finally {
    await client.close();
  }
} finally {
  await server.shutdown();
}
`;
const EXPECTED = "served by ../wireframe\n";

/** The configurations README's "Install and import" section shows, by what they hold. */
async function readmeConfigs(): Promise<{ importMap: string; links: string; packageJson: string }> {
  const readme = await readFile(join(repo, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((part) => part.startsWith("Install and import"));
  assert.ok(section, 'README has an "Install and import" section');
  const blocks = [...section.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const pick = (what: string, test: (config: Record<string, unknown>) => boolean) => {
    const found = blocks.filter((block) => test(JSON.parse(block)));
    assert.equal(found.length, 1, `one ${what} block in README's "Install and import"`);
    return found[0]!;
  };
  return {
    importMap: pick("deno.json import map", (c) => "imports" in c && !("links" in c)),
    links: pick("deno.json with links", (c) => "links" in c),
    packageJson: pick("package.json", (c) => "dependencies" in c),
  };
}
const configs = await readmeConfigs();

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `cmd` in `cwd` to its end, bounded by the hang guard (the child is killed past it). */
async function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // "close" comes after "exit", once stdout and stderr have been read to their end.
  const ended = new Promise<Ran>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  try {
    return await deadline(ended, `${cmd} ${args.join(" ")} in ${cwd}`, RUN_GUARD_MS);
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    throw error;
  }
}

/** Assert that a run exited 0 and printed exactly `expected`, showing its stderr if not. */
function assertServed(ran: Ran, expected = EXPECTED): void {
  assert.equal(ran.code, 0, `exit code ${ran.code}; stderr:\n${ran.stderr}`);
  assert.equal(ran.stdout, expected, `stderr:\n${ran.stderr}`);
}

interface Scratch extends AsyncDisposable {
  /** The app's folder; the checkout is `../wireframe` from it. */
  readonly app: string;
}

/** A temp folder holding `wireframe` (a link to this checkout) and `app/` with `files`. */
async function scratch(files: Record<string, string>): Promise<Scratch> {
  const root = await mkdtemp(join(tmpdir(), "wireframe-scratch-"));
  const checkout = join(root, "wireframe");
  await symlink(repo, checkout, "dir");
  const app = join(root, "app");
  await mkdir(app);
  for (const [name, text] of Object.entries({ "main.ts": MAIN_TS, ...files })) {
    await writeFile(join(app, name), text);
  }
  return {
    app,
    async [Symbol.asyncDispose]() {
      // Unlink the checkout first, so that nothing below can reach the repository any more.
      await unlink(checkout);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Run `main.ts` in `app` with the runtime that runs this test. */
function runApp(app: string, denoFlags: string[] = []): Promise<Ran> {
  const args = onDeno ? ["run", ...denoFlags, "--allow-net", "main.ts"] : ["main.ts"];
  return run(process.execPath, args, app);
}

if (onDeno) {
  test("a Deno app outside the repo imports the library by path through its import map, and type-checks", async () => {
    await using dir = await scratch({ "deno.json": configs.importMap });
    assertServed(await runApp(dir.app, ["--check"]));
  });

  test("a Deno app outside the repo links the checkout in place of the JSR package deno add will name", async () => {
    await using dir = await scratch({ "deno.json": configs.links });
    assertServed(await runApp(dir.app));
  });
}

const runtimeName = onDeno ? "Deno" : "Bun" in globalThis ? "Bun" : "Node.js";

test(`an app outside the repo with a file: dependency, after npm install, runs on ${runtimeName}`, async () => {
  await using dir = await scratch({ "package.json": configs.packageJson });
  // npm links a file: dependency (node_modules/@wireframe/wireframe -> ../wireframe); --offline
  // proves that nothing is fetched.
  const installed = await run("npm", ["install", "--offline", "--no-audit", "--no-fund"], dir.app);
  assert.equal(installed.code, 0, `npm install failed:\n${installed.stdout}${installed.stderr}`);
  assertServed(await runApp(dir.app));
});
