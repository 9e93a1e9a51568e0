/**
 * The command line shared by the example servers: `--hostname` (default
 * 127.0.0.1), `--port` (0 picks a free one), `--tls-cert FILE --tls-key FILE`
 * (PEM; then the server speaks TLS only, or, for an example that upgrades
 * in place such as the MySQL one, listens with `startTls`); prints `listening on HOST:PORT`
 * once ready; SIGINT/SIGTERM shut down gracefully and exit 0.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import type { TlsListenOptions, WireframeServer } from "@wireframe/wireframe";

/** The `--tls-cert` / `--tls-key` options, to spread into a `parseArgs` option table. */
export const tlsArgs = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
} as const;

/**
 * The TLS identity named by `--tls-cert FILE --tls-key FILE` (both PEM), or
 * `undefined` when neither was given. One without the other, or a file that
 * cannot be read, ends the process with status 2 and a message.
 */
export function tlsFromArgs(
  values: { "tls-cert"?: string | undefined; "tls-key"?: string | undefined },
): TlsListenOptions | undefined {
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    process.stderr.write("--tls-cert and --tls-key go together\n");
    process.exit(2);
  }
  try {
    return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  } catch (err) {
    process.stderr.write(`cannot read the TLS certificate or key: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

/** Extra string options an example accepts, with defaults. */
export type ExtraOptions = Record<string, string>;

/**
 * Parse the command line, start `createServer(...)`'s server, announce it,
 * and shut it down on SIGINT/SIGTERM (after `beforeShutdown`, e.g. a last
 * word pushed to idle connections). With `tlsMode: "upgrade"` the
 * `--tls-cert`/`--tls-key` identity is for `ctx.upgradeTls()` only (the
 * server listens in plain text with `startTls`, as a MySQL server does);
 * `createServer` is told whether one was given.
 */
export async function runExampleServer<S>(
  defaultPort: number,
  createServer: (extra: ExtraOptions, tls: boolean) => WireframeServer<S>,
  extraDefaults: ExtraOptions = {},
  beforeShutdown: () => Promise<void> = async () => {},
  tlsMode: "tls" | "upgrade" = "tls",
): Promise<void> {
  const options: Record<string, { type: "string"; default?: string }> = {
    hostname: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: String(defaultPort) },
    ...tlsArgs,
  };
  for (const [name, value] of Object.entries(extraDefaults)) {
    options[name] = { type: "string", default: value };
  }
  const { values } = parseArgs({ args: process.argv.slice(2), options });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`--port must be an integer from 0 to 65535 (got ${values.port})\n`);
    process.exit(2);
  }
  const extra: ExtraOptions = {};
  for (const name of Object.keys(extraDefaults)) extra[name] = String(values[name]);
  const tls = tlsFromArgs(values);
  // An example with a `starttls` option (on/off) upgrades with the identity instead (STARTTLS).
  if (extra["starttls"] === "on" && tls === undefined) {
    process.stderr.write("--starttls on needs --tls-cert and --tls-key\n");
    process.exit(2);
  }
  const upgrade = tlsMode === "upgrade" || extra["starttls"] === "on";
  const secure = tls && (upgrade ? { startTls: tls } : tls);
  await serveUntilSignal(
    createServer(extra, tls !== undefined),
    String(values.hostname),
    port,
    beforeShutdown,
    secure,
  );
}

/**
 * Listen on `hostname:port` (TLS only, if `tls` is given: see
 * {@link tlsFromArgs}; with `{ startTls }`, plain text that handlers may
 * upgrade with `ctx.upgradeTls()`), print `listening on HOST:PORT`, and on SIGINT/SIGTERM
 * shut down gracefully (5 s, after `beforeShutdown`) and exit 0; for an
 * example that parses its own command line.
 */
export async function serveUntilSignal<S>(
  server: WireframeServer<S>,
  hostname: string,
  port: number,
  beforeShutdown: () => Promise<void> = async () => {},
  tls?: TlsListenOptions | { startTls: TlsListenOptions },
): Promise<void> {
  const addr = await server.listen(
    tls === undefined
      ? { hostname, port }
      : "startTls" in tls
      ? { hostname, port, startTls: tls.startTls }
      : { hostname, port, tls },
  );
  process.stdout.write(`listening on ${addr.hostname}:${addr.port}\n`);
  // The first signal shuts down (bounded: 5 s); more during it are ignored, since Ctrl-C under a
  // launcher (npx, wireframe-ts) reaches the server twice: from the terminal and forwarded.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await beforeShutdown();
    await server.shutdown({ timeoutMs: 5_000 });
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/** Read a u32 BE from the start of `bytes`. */
export function readU32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/** Four bytes of `value` as u32 BE. */
export function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}
