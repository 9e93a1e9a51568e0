/**
 * The JS peer of bench/mysql: mysql2's own server API (`createServer`),
 * answering the two benchmark queries the way its docs show — `SELECT 1`,
 * and `SELECT seq FROM seq_1_to_N` written row by row (the API has no
 * back-pressure: every row is written at once). Anything else gets an ERR.
 * The one fix it needs: the sequence id of each reply is set by hand.
 *
 * Run: `node bench/mysql/mysql2_server.ts --port 0` (or deno/bun); prints
 * `listening on 127.0.0.1:PORT`.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
// @ts-types="npm:mysql2@3.24.5"
import mysql from "mysql2";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { port: { type: "string", default: "0" } },
});

const column = (name: string) => ({
  catalog: "def",
  schema: "",
  table: "",
  orgTable: "",
  name,
  orgName: name,
  characterSet: 63,
  columnLength: 20,
  columnType: 8, // LONGLONG
  flags: 0,
  decimals: 0,
});

let nextId = 1;
// deno-lint-ignore no-explicit-any
const server = (mysql as any).createServer();
// deno-lint-ignore no-explicit-any
server.on("connection", (conn: any) => {
  conn.serverHandshake({
    protocolVersion: 10,
    serverVersion: "8.0.35-mysql2",
    connectionId: nextId++,
    statusFlags: 2,
    characterSet: 45,
    capabilityFlags: 0xaa20f, // PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, …; no SSL, no DEPRECATE_EOF
  });
  conn.on("error", () => {});
  // Without it, Nagle's algorithm holds the small packets it writes one by one (~25 round trips/s).
  conn.stream.setNoDelay(true);
  conn.on("query", (sql: string) => {
    // mysql2's server API does not restart the sequence id per command (its
    // own client then warns "got packets out of order" for every packet):
    // the reply to a command's packet 0 starts at 1.
    conn.sequenceId = 1;
    const seq = /^SELECT seq FROM seq_1_to_(\d+)$/i.exec(sql);
    if (/^SELECT 1$/i.test(sql)) {
      conn.writeColumns([column("1")]);
      conn.writeTextRow([1]);
      conn.writeEof();
    } else if (seq) {
      conn.writeColumns([column("seq")]);
      const n = Number(seq[1]);
      for (let i = 1; i <= n; i++) conn.writeTextRow([i]);
      conn.writeEof();
    } else {
      conn.writeError({ code: 1064, message: `not supported: ${sql}` });
    }
  });
});
server.listen(Number(values.port), "127.0.0.1", () => {
  process.stdout.write(`listening on 127.0.0.1:${server._server.address().port}\n`);
});
process.once("SIGTERM", () => process.exit(0));
