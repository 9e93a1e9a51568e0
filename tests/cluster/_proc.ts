/**
 * A process of the cluster tests (a node, the supervisor), run on the
 * current runtime, with its stdout readable line by line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { deadline, HANG_GUARD_MS } from "../e2e/_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A running process. */
export interface Proc extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Wait until stdout matches `re` `count` times; the matches. */
  waitFor(re: RegExp, what: string, count?: number, ms?: number): Promise<RegExpExecArray[]>;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** Run `file` (relative to the repo root) with `args` on this runtime. */
export function run(file: string, args: string[], denoFlags: string[] = []): Proc {
  const argv = "Deno" in globalThis ? ["run", "-A", ...denoFlags, file, ...args] : [file, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const waiter of waiters) waiter();
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? signal ?? -1))
  );
  exited.then(() => {
    for (const waiter of waiters) waiter();
  });
  let done = false;
  exited.then(() => (done = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, what, count = 1, ms = HANG_GUARD_MS) {
      const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
      return deadline(
        new Promise<RegExpExecArray[]>((resolve, reject) => {
          const check = () => {
            const matches = [...out.matchAll(global)];
            if (matches.length >= count) {
              waiters.delete(check);
              resolve(matches);
            } else if (done) {
              waiters.delete(check);
              reject(new Error(`${file} exited before ${what}: ${err}`));
            }
          };
          waiters.add(check);
          check();
        }),
        what,
        ms,
      );
    },
    async [Symbol.asyncDispose]() {
      if (!done) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
