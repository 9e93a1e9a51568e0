/**
 * A real `redis-server` for the cluster tests: started on a free loopback
 * port in a temporary directory, with persistence off, and killed or
 * restarted (on the same port) by the fault tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deadline } from "../e2e/_helpers.ts";

/** A running (or stopped) redis-server. */
export interface RedisServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** SIGKILL it (no goodbye to its clients) and wait for its exit. */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Start a redis-server on a free 127.0.0.1 port. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "wf-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const proc = spawn("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--protected-mode",
      "no",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    let output = "";
    await deadline(
      new Promise<void>((resolve, reject) => {
        proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          output += chunk;
          if (output.includes("Ready to accept connections")) resolve();
        });
        proc.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      }),
      "redis-server to start",
    );
  };
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async [Symbol.asyncDispose]() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
