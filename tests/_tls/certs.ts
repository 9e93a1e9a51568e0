/**
 * A throwaway PKI for TLS tests, made with the `openssl` command (Debian's
 * `openssl` package): a CA, and a server certificate it signed for
 * `localhost` and `127.0.0.1`. Files are written to a fresh temporary folder
 * and read back as PEM text; a second, unrelated CA stands in for "a CA the
 * client does not trust".
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM texts and the files they were read from. */
export interface TestPki {
  /** The folder holding every file below. */
  readonly dir: string;
  /** The CA certificate (PEM) that signed `cert`. */
  readonly ca: string;
  /** Path of `ca`. */
  readonly caFile: string;
  /** A CA that signed nothing here: trusting only it must fail. */
  readonly otherCa: string;
  /** The server certificate (PEM): CN and SAN `localhost`, SAN IP `127.0.0.1`. */
  readonly cert: string;
  /** Path of `cert`. */
  readonly certFile: string;
  /** The server's private key (PEM, PKCS#8, P-256). */
  readonly key: string;
  /** Path of `key`. */
  readonly keyFile: string;
  /** Delete the folder. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string): void {
  // deno-fmt-ignore
  openssl(dir, [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** Generate a CA and a server certificate into a new temporary folder. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "wireframe-tls-"));
  makeCa(dir, "test-ca");
  makeCa(dir, "other-ca");
  // deno-fmt-ignore
  openssl(dir, [
    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
  ]);
  writeFileSync(
    join(dir, "server.ext"),
    [
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  // deno-fmt-ignore
  openssl(dir, [
    "x509", "-req", "-in", "server.csr", "-CA", "test-ca.pem", "-CAkey", "test-ca.key",
    "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
  ]);
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  return {
    dir,
    ca: read("test-ca.pem"),
    caFile: join(dir, "test-ca.pem"),
    otherCa: read("other-ca.pem"),
    cert: read("server.pem"),
    certFile: join(dir, "server.pem"),
    key: read("server.key"),
    keyFile: join(dir, "server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
