// mosquitto_sub / mosquitto_pub (Debian's mosquitto-clients, installed by .ci/run) as child
// processes: a subscriber that reports when its SUBACK came, and a publisher that resolves on exit.
import { spawn } from "node:child_process";
import { deadline } from "../e2e/_helpers.ts";

/** A running mosquitto_sub. */
export interface MosquittoSub {
  /** Resolves with the SUBACK's return codes once mosquitto_sub reports them. */
  readonly subscribed: Promise<number[]>;
  /** Resolves with the message lines (debug lines left out) once it exits, with its exit code. */
  readonly done: Promise<{ code: number | null; lines: string[] }>;
  kill(): void;
}

/** `mosquitto_sub -d -p PORT ...args`; pass `-C n` so it exits by itself. */
export function mosquittoSub(port: number, args: string[]): MosquittoSub {
  // stdbuf -oL: mosquitto_sub's stdout is block-buffered into a pipe; the SUBACK line must come now.
  const argv = ["-oL", "mosquitto_sub", "-d", "-h", "127.0.0.1", "-p", String(port), ...args];
  const child = spawn("stdbuf", argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let onSuback: ((codes: number[]) => void) | undefined;
  const subscribed = new Promise<number[]>((resolve) => (onSuback = resolve));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    const match = /Subscribed \(mid: \d+\): ([\d, ]+)/.exec(out);
    if (match) onSuback?.(match[1]!.split(",").map((c) => Number(c.trim())));
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const done = new Promise<{ code: number | null; lines: string[] }>((resolve) =>
    child.once("close", (code) =>
      resolve({
        code,
        lines: out.split("\n").filter((line) =>
          line !== "" && !line.startsWith("Client ") && !line.startsWith("Subscribed ")
        ),
      }))
  );
  return {
    get subscribed() {
      return deadline(subscribed, `mosquitto_sub's SUBACK (${err})`);
    },
    get done() {
      return deadline(done, "mosquitto_sub to exit");
    },
    kill: () => child.kill("SIGKILL"),
  };
}

/** `mosquitto_pub -p PORT ...args`; resolves with its exit code and stderr. */
export function mosquittoPub(
  port: number,
  args: string[],
): Promise<{ code: number | null; err: string }> {
  const child = spawn("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  return deadline(
    new Promise((resolve) => child.once("close", (code) => resolve({ code, err }))),
    "mosquitto_pub to exit",
  );
}
