/**
 * examples/mysql/server.ts as a process on the current runtime: `--port 0`
 * prints `listening on HOST:PORT`, `--user`/`--password`/`--database` are
 * honoured, and SIGTERM pushes ERR 1053 to an idle connection, then exits 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createConnection, type QueryError } from "mysql2";
import { startExample } from "../e2e/_process.ts";
import { deadline } from "../e2e/_helpers.ts";

test("server.ts: options, then SIGTERM pushes ERR 1053 to an idle connection and exits 0", async () => {
  await using server = await startExample("mysql/server.ts", [
    "--user",
    "admin",
    "--password",
    "pw",
    "--database",
    "shop",
  ]);
  const conn = createConnection({
    host: server.hostname,
    port: server.port,
    user: "admin",
    password: "pw",
    database: "shop",
  });
  const rows = await new Promise((resolve, reject) =>
    conn.query(
      "SELECT DATABASE() AS db",
      (error, result) => error ? reject(error) : resolve(result),
    )
  );
  assert.deepEqual(rows, [{ db: "shop" }]);
  const fatal = new Promise<QueryError>((resolve) => conn.once("error", resolve));
  const code = await server.terminate();
  assert.equal(code, 0, server.stderr());
  const error = await deadline(fatal, "the pushed ERR");
  // mysql2 reports a server-initiated ERR as a fatal error whose code is the number.
  assert.equal((error as { code: unknown }).code, 1053);
  assert.equal(error.fatal, true);
  assert.match(error.message, /Server shutdown in progress/);
});
