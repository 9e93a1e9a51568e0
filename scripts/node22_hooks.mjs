// Node.js 22 only (scripts/test.mjs passes it with --import to the node22 run): Node 22's V8 has
// no `using` / `await using` declarations (Node 24 has), and the tests use `await using` for
// every server and client. This hook lowers them, and only them, with TypeScript (a dev
// dependency): a .ts file that declares with `using` is transpiled to ES2024 JavaScript (so
// `using` becomes try/finally helpers and the rest stays as it is); every other file, the
// library's sources included, is left to Node's own type stripping.
import { register } from "node:module";

register(
  "data:text/javascript," + encodeURIComponent(`
const USING = /(^|[^.\\w$])(await\\s+)?using\\s+[\\w$]+\\s*=/m;
let ts;
export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!url.startsWith("file:") || !/\\.[cm]?ts$/.test(url) || loaded.source == null) return loaded;
  const source = String(loaded.source);
  if (!USING.test(source)) return loaded;
  ts ??= (await import(${JSON.stringify(import.meta.resolve("typescript"))})).default;
  const out = ts.transpileModule(source, {
    fileName: new URL(url).pathname,
    compilerOptions: {
      target: ts.ScriptTarget.ES2024,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  return { format: "module", source: out.outputText, shortCircuit: true };
}
`),
  import.meta.url,
);
