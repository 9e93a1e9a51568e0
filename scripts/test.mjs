#!/usr/bin/env node
// Runs the whole suite on Deno and on Bun (both from node_modules, so no
// global install is needed) and ends with one line: "N passed, N failed".
// Usage: node scripts/test.mjs [path-or-filter ...]   (defaults to tests/)
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const targets = process.argv.slice(2);
const paths = targets.length > 0 ? targets : ["tests/"];

for (const name of ["deno", "bun"]) {
  if (!existsSync(bin(name))) {
    console.error(`${name} is not installed: run "npm ci" first.`);
    process.exit(2);
  }
}

// FORCE_COLOR must be absent, not "0": Deno turns colours on whenever it is set.
const { FORCE_COLOR: _forced, ...inherited } = process.env;
const env = { ...inherited, NO_COLOR: "1" };

/** Run a command, echo its output live, and return { code, output }. */
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const tee = (stream, sink) =>
      stream.on("data", (chunk) => {
        output += chunk;
        sink.write(chunk);
      });
    tee(child.stdout, process.stdout);
    tee(child.stderr, process.stderr);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const count = (text, re) => {
  const matches = [...text.matchAll(re)];
  const last = matches.at(-1);
  return last ? Number(last[1]) : 0;
};

console.log("== deno test ==");
const deno = await run(bin("deno"), ["test", "--allow-all", "--parallel", ...paths]);
const denoPassed = count(deno.output, /\|\s*(\d+) passed/g);
const denoFailed = count(deno.output, /\|\s*(\d+) failed/g);

console.log("== bun test ==");
const bun = await run(bin("bun"), ["test", "--timeout", "120000", ...paths]);
const bunPassed = count(bun.output, /^\s*(\d+) pass$/gm);
const bunFailed = count(bun.output, /^\s*(\d+) fail$/gm);

// A runner that crashed before printing a summary still counts as a failure.
const denoBroken = deno.code !== 0 && denoFailed === 0 ? 1 : 0;
const bunBroken = bun.code !== 0 && bunFailed === 0 ? 1 : 0;
const passed = denoPassed + bunPassed;
const failed = denoFailed + bunFailed + denoBroken + bunBroken;

console.log(`deno: ${denoPassed} passed, ${denoFailed + denoBroken} failed (exit ${deno.code})`);
console.log(`bun: ${bunPassed} passed, ${bunFailed + bunBroken} failed (exit ${bun.code})`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
