/**
 * The tokens of the SQL subset: words, numbers, strings, `@@` and `@`
 * variables, `?` placeholders and punctuation; comments are skipped.
 *
 * @module
 */
import { syntaxError } from "./sql_error.ts";

/** One token; `start` and `end` index the statement text. */
export type Token =
  | { kind: "word"; value: string; upper: string; quoted: boolean; start: number; end: number }
  | { kind: "number"; value: string; start: number; end: number }
  | { kind: "string"; value: string; start: number; end: number }
  | {
    kind: "sysvar";
    scope: "session" | "global" | undefined;
    name: string;
    start: number;
    end: number;
  }
  | { kind: "uservar"; name: string; start: number; end: number }
  | { kind: "param"; start: number; end: number }
  | { kind: "punct"; value: string; start: number; end: number };

const WORD = /[A-Za-z0-9_$]/;
const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
  b: "\b",
  Z: "\x1a",
};

/**
 * Split `sql` into tokens.
 *
 * @throws {SqlError} 1064 for an unterminated string or an unknown character
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#" || (c === "-" && sql[i + 1] === "-" && /\s|$/.test(sql[i + 2] ?? ""))) {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw syntaxError(sql.slice(i));
      i = end + 2;
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = "";
      i++;
      for (;;) {
        if (i >= sql.length) throw syntaxError(sql.slice(start));
        const d = sql[i]!;
        if (d === "\\" && i + 1 < sql.length) {
          const e = sql[i + 1]!;
          value += ESCAPES[e] ?? e;
          i += 2;
        } else if (d === c && sql[i + 1] === c) {
          value += c;
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: "string", value, start, end: i });
    } else if (c === "`") {
      const start = i;
      const end = sql.indexOf("`", i + 1);
      if (end < 0) throw syntaxError(sql.slice(start));
      const value = sql.slice(i + 1, end);
      i = end + 1;
      tokens.push({ kind: "word", value, upper: value.toUpperCase(), quoted: true, start, end: i });
    } else if (c === "@" && sql[i + 1] === "@") {
      const start = i;
      i += 2;
      let name = "";
      while (i < sql.length && (WORD.test(sql[i]!) || sql[i] === ".")) name += sql[i++];
      let scope: "session" | "global" | undefined;
      const dot = name.indexOf(".");
      if (dot >= 0) {
        const prefix = name.slice(0, dot).toLowerCase();
        if (prefix === "session" || prefix === "local") scope = "session";
        else if (prefix === "global") scope = "global";
        else throw syntaxError(sql.slice(start));
        name = name.slice(dot + 1);
      }
      if (name === "") throw syntaxError(sql.slice(start));
      tokens.push({ kind: "sysvar", scope, name: name.toLowerCase(), start, end: i });
    } else if (c === "@") {
      const start = i++;
      let name = "";
      if (sql[i] === "`" || sql[i] === "'" || sql[i] === '"') {
        const quote = sql[i]!;
        const end = sql.indexOf(quote, i + 1);
        if (end < 0) throw syntaxError(sql.slice(start));
        name = sql.slice(i + 1, end);
        i = end + 1;
      } else {
        while (i < sql.length && (WORD.test(sql[i]!) || sql[i] === ".")) name += sql[i++];
      }
      if (name === "") throw syntaxError(sql.slice(start));
      tokens.push({ kind: "uservar", name: name.toLowerCase(), start, end: i });
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const start = i;
      const match = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(sql.slice(i))!;
      i += match[0].length;
      if (i < sql.length && /[A-Za-z_$]/.test(sql[i]!)) {
        // 1abc is an identifier in MySQL; seq_1_to_3 starts with a letter anyway.
        while (i < sql.length && WORD.test(sql[i]!)) i++;
        const value = sql.slice(start, i);
        tokens.push({
          kind: "word",
          value,
          upper: value.toUpperCase(),
          quoted: false,
          start,
          end: i,
        });
      } else {
        tokens.push({ kind: "number", value: match[0], start, end: i });
      }
    } else if (WORD.test(c)) {
      const start = i;
      while (i < sql.length && WORD.test(sql[i]!)) i++;
      const value = sql.slice(start, i);
      tokens.push({
        kind: "word",
        value,
        upper: value.toUpperCase(),
        quoted: false,
        start,
        end: i,
      });
    } else if (c === "?") {
      tokens.push({ kind: "param", start: i, end: ++i });
    } else if ("(),=*;.-+".includes(c)) {
      tokens.push({ kind: "punct", value: c, start: i, end: ++i });
    } else {
      throw syntaxError(sql.slice(i));
    }
  }
  return tokens;
}
