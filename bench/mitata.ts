/**
 * Run `*_bench.ts` micro-benchmarks under mitata on whichever runtime runs
 * this file, so the `deno bench` tables can be reproduced on Bun and Node.js:
 *
 * ```sh
 * node bench/mitata.ts bench/codec_bench.ts bench/fragment_bench.ts
 * bun bench/mitata.ts bench/codec_bench.ts
 * deno run -A bench/mitata.ts bench/fragment_bench.ts
 * ```
 *
 * Options: `--short` (CI: a tenth of mitata's sampling time per benchmark),
 * `--filter REGEXP` (benchmarks whose name matches).
 *
 * @module
 */
import process from "node:process";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { collectForMitata, runCollected } from "./_bench.ts";

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { short: { type: "boolean", default: false }, filter: { type: "string" } },
});
if (positionals.length === 0) {
  process.stderr.write("usage: bench/mitata.ts [--short] [--filter REGEXP] FILE_bench.ts...\n");
  process.exit(2);
}
collectForMitata();
for (const file of positionals) await import(pathToFileURL(resolve(file)).href);
await runCollected({
  short: values.short,
  ...values.filter !== undefined && { filter: new RegExp(values.filter) },
});
