#!/usr/bin/env node
/**
 * `wireframe-ts`: the example servers as one command, for `bunx` / `npx`.
 *
 * ```sh
 * wireframe-ts echo --port 7878          # or push, fragment-echo, smtp, mysql, mqtt
 * wireframe-ts echo --tls-cert c.pem --tls-key k.pem
 * wireframe-ts --help
 * ```
 *
 * Each subcommand runs its example server (`examples/NAME`) as a child
 * process of the runtime running this file, with the arguments that follow
 * it, so every server keeps its own command line: `--hostname`, `--port`
 * (0 picks a free one), `--tls-cert FILE --tls-key FILE`, the line
 * `listening on HOST:PORT` once ready, and SIGINT/SIGTERM shut it down
 * gracefully. The exit status is the server's.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { isMain } from "../examples/_main.ts";

/** A subcommand: the example it runs (without extension) and one line about it. */
export interface Command {
  /** The example's path under `examples/`, without its extension. */
  readonly example: string;
  /** What `--help` says about it. */
  readonly about: string;
  /** Its default port. */
  readonly port: number;
}

/** The subcommands, in the order `--help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  echo: {
    example: "echo_server",
    port: 7878,
    about: "echo server, default wire format: id 1 echoes, id 2 streams a count",
  },
  push: {
    example: "push_server",
    port: 7879,
    about: "push server: subscriptions to ticks, broadcasts to every connection",
  },
  "fragment-echo": {
    example: "fragment_echo_server",
    port: 7880,
    about: "echo server whose messages travel in LenFlag32K fragments",
  },
  smtp: { example: "smtp_server", port: 2525, about: "toy SMTP server on LineCodec" },
  mysql: {
    example: "mysql/server",
    port: 3306,
    about: "MySQL-protocol server (mysql2, mariadb clients); --user, --password",
  },
  mqtt: { example: "mqtt/broker", port: 1883, about: "MQTT 3.1.1 broker" },
};

/** `.ts` when run from a checkout, `.js` from the built npm package. */
const EXTENSION = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** The file a subcommand runs. */
export function exampleFile(command: Command): string {
  return fileURLToPath(new URL(`../examples/${command.example}${EXTENSION}`, import.meta.url));
}

function version(): string {
  const manifest = fileURLToPath(new URL("../package.json", import.meta.url));
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/** The text of `--help`. */
export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { about, port }]) =>
    `  ${name.padEnd(width)}  ${about} (port ${port})`
  );
  return [
    "Usage: wireframe-ts COMMAND [options]",
    "",
    "Runs one of Wireframe's example servers.",
    "",
    "Commands:",
    ...lines,
    "",
    "Options (every command):",
    "  --hostname HOST                 interface to bind (default 127.0.0.1)",
    "  --port PORT                     port to listen on; 0 picks a free one",
    "  --tls-cert FILE --tls-key FILE  PEM certificate and key: serve TLS only",
    "",
    "Once ready a server prints 'listening on HOST:PORT'; SIGINT or SIGTERM shuts it down",
    "gracefully. Other options per command: see the example's source, examples/NAME.",
    "",
    "  wireframe-ts --help | --version",
    "",
  ].join("\n");
}

/** Run the command line `argv` (without the runtime and script); resolves with the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`wireframe-ts: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const file = exampleFile(command);
  if (!existsSync(file)) {
    process.stderr.write(`wireframe-ts: ${name}: ${file} is missing from this installation\n`);
    return 1;
  }
  // Deno needs `run` and the permissions the servers use.
  const runtimeArgs = "Deno" in globalThis
    ? ["run", "--allow-all", file, ...args]
    : [file, ...args];
  const child = spawn(process.execPath, runtimeArgs, { stdio: "inherit" });
  // The server shuts down gracefully on these; pass them on and wait for it. process.kill rather
  // than child.kill: Deno's node:child_process reports the signal given to child.kill() as the
  // cause of exit even when the child exits 0 on it.
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.pid !== undefined) process.kill(child.pid, signal);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await new Promise<number>((resolve) => {
      child.once("error", (err) => {
        process.stderr.write(`wireframe-ts: cannot start ${name}: ${err.message}\n`);
        resolve(1);
      });
      child.once("exit", (code) => resolve(code ?? 1));
    });
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}

if (isMain(import.meta)) process.exitCode = await main(process.argv.slice(2));
