/**
 * A MySQL-protocol server on Wireframe, for real clients (mysql2, the
 * MariaDB connector, the `mariadb` command line client).
 *
 * Run: `deno run -A examples/mysql/server.ts --port 3306 --user root --password secret`
 *  or: `bun examples/mysql/server.ts --port 3306`, then
 * `mariadb -h 127.0.0.1 -P 3306 -u root -psecret --local-infile=1 test`.
 *
 * Options: `--hostname` (127.0.0.1), `--port` (3306; 0 picks one and
 * prints `listening on HOST:PORT`), `--user` (root), `--password` (empty),
 * `--database` (test, created empty), `--tls-cert FILE --tls-key FILE`
 * (PEM: offer TLS the MySQL way, CLIENT_SSL and the client's SSLRequest, on
 * the same plain port), `--require-secure-transport on` (refuse logins not
 * over TLS: ERR 3159). SIGTERM pushes ERR 1053 "Server shutdown in
 * progress" to idle connections, shuts down gracefully and exits 0.
 *
 * @module
 */
import process from "node:process";
import { WireframeServer } from "@wireframe/wireframe";
import { runExampleServer } from "../_cli.ts";
import { mysqlApp, type MysqlServer } from "./app.ts";
import { isMain } from "../_main.ts";

if (isMain(import.meta)) {
  let mysql: MysqlServer | undefined;
  await runExampleServer(
    3306,
    (extra, tls) => {
      const requireSecureTransport = extra["require-secure-transport"] === "on";
      if (requireSecureTransport && !tls) {
        process.stderr.write("--require-secure-transport on needs --tls-cert and --tls-key\n");
        process.exit(2);
      }
      mysql = mysqlApp({
        user: extra.user,
        password: extra.password,
        database: extra.database,
        tls,
        requireSecureTransport,
      });
      return new WireframeServer(mysql.app);
    },
    { user: "root", password: "", database: "test", "require-secure-transport": "off" },
    () => mysql?.notifyShutdown() ?? Promise.resolve(),
    "upgrade",
  );
}
