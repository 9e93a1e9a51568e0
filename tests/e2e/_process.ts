/** Run an example server as a real process on the current runtime. */
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { deadline, signal } from "./_helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A running example server process. */
export interface ExampleProcess extends AsyncDisposable {
  readonly hostname: string;
  readonly port: number;
  /** Everything the process has written to stderr so far (all of it once `terminate()` resolves). */
  stderr(): string;
  /** Send SIGTERM and resolve with the exit code, once its output has been read to the end. */
  terminate(): Promise<number | null>;
}

/** Start `examples/<file> --port 0 ...args` and wait for its `listening on HOST:PORT` line. */
export async function startExample(file: string, args: string[] = []): Promise<ExampleProcess> {
  const argv = "Deno" in globalThis
    ? ["run", "-A", `examples/${file}`, "--port", "0", ...args]
    : [`examples/${file}`, "--port", "0", ...args];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code))
  );
  // "close" comes after "exit", once stdout and stderr have been read to their end.
  const drained = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let stdout = "";
  let stderr = "";
  const listening = signal<{ hostname: string; port: number }>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    const match = /listening on (\S+):(\d+)/.exec(stdout);
    if (match) listening.resolve({ hostname: match[1]!, port: Number(match[2]) });
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  try {
    const addr = await deadline(
      Promise.race([
        listening.promise,
        exited.then((code) => {
          throw new Error(`${file} exited early (${code}): ${stderr}`);
        }),
      ]),
      `${file}'s 'listening on' line`,
      30_000,
    );
    return {
      ...addr,
      stderr: () => stderr,
      async terminate() {
        // process.kill rather than child.kill: Deno's node:child_process reports the signal
        // given to child.kill() as the cause of exit even when the child exits 0 on it.
        process.kill(child.pid!, "SIGTERM");
        const code = await deadline(exited, `${file} to exit after SIGTERM`, 30_000);
        await deadline(drained, `${file}'s output to end`, 30_000);
        return code;
      },
      [Symbol.asyncDispose]: kill,
    };
  } catch (error) {
    await kill();
    throw error;
  }
}
