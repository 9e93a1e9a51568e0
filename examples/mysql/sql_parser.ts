/**
 * The SQL subset as statements (see README.md); anything else is a 1064.
 *
 * @module
 */
import type { SqlValue } from "./packets.ts";
import { syntaxError } from "./sql_error.ts";
import { type Token, tokenize } from "./sql_lexer.ts";

/** An expression of the subset. */
export type Expr =
  | { readonly kind: "literal"; readonly value: SqlValue }
  | { readonly kind: "param"; readonly index: number }
  | {
    readonly kind: "sysvar";
    readonly scope: "session" | "global" | undefined;
    readonly name: string;
  }
  | { readonly kind: "uservar"; readonly name: string }
  | { readonly kind: "call"; readonly name: string }
  | { readonly kind: "concat"; readonly args: readonly Expr[] }
  | { readonly kind: "column"; readonly name: string }
  | { readonly kind: "negate"; readonly expr: Expr };

/** One item of a select list. */
export type SelectItem =
  | { readonly kind: "star" }
  | { readonly kind: "expr"; readonly expr: Expr; readonly name: string };

/** `col = value` conditions joined by AND. */
export interface Condition {
  readonly column: string;
  readonly value: Expr;
}

/** A column of CREATE TABLE. */
export interface ColumnSpec {
  readonly name: string;
  /** INT, BIGINT, DOUBLE, VARCHAR, TEXT or LONGTEXT. */
  readonly type: string;
  /** VARCHAR's length. */
  readonly length: number | undefined;
  readonly notNull: boolean;
  readonly primaryKey: boolean;
  readonly autoIncrement: boolean;
}

/** One assignment of SET. */
export type Assignment =
  | {
    readonly kind: "system";
    readonly scope: "session" | "global";
    readonly name: string;
    readonly value: Expr;
  }
  | { readonly kind: "user"; readonly name: string; readonly value: Expr }
  | { readonly kind: "names"; readonly charset: string; readonly collation: string | undefined };

/** A statement of the subset. */
export type Statement =
  | {
    readonly kind: "select";
    readonly items: readonly SelectItem[];
    readonly from: { readonly schema: string | undefined; readonly table: string } | undefined;
    readonly where: readonly Condition[];
    readonly limit: Expr | undefined;
    readonly offset: Expr | undefined;
  }
  | { readonly kind: "create-database"; readonly name: string; readonly ifNotExists: boolean }
  | { readonly kind: "drop-database"; readonly name: string; readonly ifExists: boolean }
  | { readonly kind: "use"; readonly name: string }
  | { readonly kind: "show-databases" }
  | { readonly kind: "show-tables" }
  | { readonly kind: "show-variables"; readonly like: string | undefined }
  | {
    readonly kind: "create-table";
    readonly name: string;
    readonly ifNotExists: boolean;
    readonly columns: readonly ColumnSpec[];
  }
  | {
    readonly kind: "insert";
    readonly table: string;
    readonly columns: readonly string[] | undefined;
    readonly rows: readonly (readonly Expr[])[];
  }
  | { readonly kind: "delete"; readonly table: string; readonly where: readonly Condition[] }
  | { readonly kind: "drop-table"; readonly names: readonly string[]; readonly ifExists: boolean }
  | { readonly kind: "set"; readonly assignments: readonly Assignment[] }
  | { readonly kind: "begin" }
  | { readonly kind: "commit" }
  | { readonly kind: "rollback" }
  | {
    readonly kind: "load-data";
    readonly file: string;
    readonly table: string;
    readonly fieldsTerminatedBy: string;
    readonly linesTerminatedBy: string;
    readonly ignoreLines: number;
  };

/** A parsed statement and how many `?` it has. */
export interface Parsed {
  readonly statement: Statement;
  readonly params: number;
}

const CALLS = new Set([
  "DATABASE",
  "SCHEMA",
  "CONNECTION_ID",
  "VERSION",
  "USER",
  "CURRENT_USER",
  "LAST_INSERT_ID",
]);
const TYPES = new Set(["INT", "INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "TEXT", "LONGTEXT"]);

/**
 * Parse one statement (a trailing `;` is allowed).
 *
 * @throws {SqlError} 1064 for anything outside the subset
 */
export function parse(sql: string): Parsed {
  return new Parser(sql).statement();
}

class Parser {
  readonly #sql: string;
  readonly #tokens: Token[];
  #pos = 0;
  #params = 0;

  constructor(sql: string) {
    this.#sql = sql;
    this.#tokens = tokenize(sql);
  }

  statement(): Parsed {
    const statement = this.#statement();
    if (this.#isPunct(";")) this.#pos++;
    if (this.#pos < this.#tokens.length) this.#fail();
    return { statement, params: this.#params };
  }

  #fail(): never {
    const token = this.#tokens[this.#pos];
    throw syntaxError(token === undefined ? "" : this.#sql.slice(token.start));
  }

  #peek(): Token | undefined {
    return this.#tokens[this.#pos];
  }

  #isWord(...words: string[]): boolean {
    const t = this.#peek();
    return t?.kind === "word" && !t.quoted && words.includes(t.upper);
  }

  #isPunct(value: string): boolean {
    const t = this.#peek();
    return t?.kind === "punct" && t.value === value;
  }

  #word(...words: string[]): string {
    if (!this.#isWord(...words)) this.#fail();
    return (this.#tokens[this.#pos++] as { upper: string }).upper;
  }

  #accept(...words: string[]): boolean {
    if (!this.#isWord(...words)) return false;
    this.#pos++;
    return true;
  }

  #punct(value: string): void {
    if (!this.#isPunct(value)) this.#fail();
    this.#pos++;
  }

  #name(): string {
    const t = this.#peek();
    if (t?.kind !== "word") this.#fail();
    this.#pos++;
    return t.value;
  }

  #string(): string {
    const t = this.#peek();
    if (t?.kind !== "string") this.#fail();
    this.#pos++;
    return t.value;
  }

  #integer(): number {
    const t = this.#peek();
    if (t?.kind !== "number" || !/^[0-9]+$/.test(t.value)) this.#fail();
    this.#pos++;
    return Number(t.value);
  }

  #statement(): Statement {
    const t = this.#peek();
    if (t?.kind !== "word") this.#fail();
    switch (t.upper) {
      case "SELECT":
        return this.#select();
      case "CREATE":
        this.#pos++;
        if (this.#accept("DATABASE", "SCHEMA")) {
          const ifNotExists = this.#ifNotExists();
          return { kind: "create-database", name: this.#name(), ifNotExists };
        }
        return this.#createTable();
      case "DROP": {
        this.#pos++;
        if (this.#accept("DATABASE", "SCHEMA")) {
          const ifExists = this.#ifExists();
          return { kind: "drop-database", name: this.#name(), ifExists };
        }
        this.#word("TABLE");
        const ifExists = this.#ifExists();
        const names = [this.#tableName()];
        while (this.#isPunct(",")) {
          this.#pos++;
          names.push(this.#tableName());
        }
        return { kind: "drop-table", names, ifExists };
      }
      case "USE":
        this.#pos++;
        return { kind: "use", name: this.#name() };
      case "SHOW":
        return this.#show();
      case "INSERT":
        return this.#insert();
      case "DELETE": {
        this.#pos++;
        this.#word("FROM");
        const table = this.#tableName();
        return { kind: "delete", table, where: this.#where() };
      }
      case "SET":
        return this.#set();
      case "BEGIN":
        this.#pos++;
        this.#accept("WORK");
        return { kind: "begin" };
      case "START":
        this.#pos++;
        this.#word("TRANSACTION");
        return { kind: "begin" };
      case "COMMIT":
        this.#pos++;
        this.#accept("WORK");
        return { kind: "commit" };
      case "ROLLBACK":
        this.#pos++;
        this.#accept("WORK");
        return { kind: "rollback" };
      case "LOAD":
        return this.#loadData();
      default:
        this.#fail();
    }
  }

  #ifNotExists(): boolean {
    if (!this.#accept("IF")) return false;
    this.#word("NOT");
    this.#word("EXISTS");
    return true;
  }

  #ifExists(): boolean {
    if (!this.#accept("IF")) return false;
    this.#word("EXISTS");
    return true;
  }

  /** `t` or `db.t`: the table's name (the database part is dropped with a check by the engine). */
  #tableName(): string {
    const first = this.#name();
    if (!this.#isPunct(".")) return first;
    this.#pos++;
    return `${first}.${this.#name()}`;
  }

  #select(): Statement {
    this.#word("SELECT");
    const items: SelectItem[] = [];
    do {
      if (items.length > 0) this.#punct(",");
      items.push(this.#selectItem());
    } while (this.#isPunct(","));
    let from: { schema: string | undefined; table: string } | undefined;
    if (this.#accept("FROM")) {
      const name = this.#tableName();
      const dot = name.indexOf(".");
      from = dot < 0
        ? { schema: undefined, table: name }
        : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
    }
    const where = from ? this.#where() : [];
    let limit: Expr | undefined;
    let offset: Expr | undefined;
    if (this.#accept("LIMIT")) {
      limit = this.#limitValue();
      if (this.#isPunct(",")) {
        this.#pos++;
        offset = limit;
        limit = this.#limitValue();
      } else if (this.#accept("OFFSET")) {
        offset = this.#limitValue();
      }
    }
    return { kind: "select", items, from, where, limit, offset };
  }

  #limitValue(): Expr {
    if (this.#peek()?.kind === "param") {
      this.#pos++;
      return { kind: "param", index: this.#params++ };
    }
    return { kind: "literal", value: this.#integer() };
  }

  #selectItem(): SelectItem {
    if (this.#isPunct("*")) {
      this.#pos++;
      return { kind: "star" };
    }
    const start = this.#peek()?.start ?? this.#sql.length;
    const expr = this.#expr();
    const end = this.#tokens[this.#pos - 1]!.end;
    let name = expr.kind === "literal" && typeof expr.value === "string"
      ? expr.value
      : this.#sql.slice(start, end);
    if (this.#accept("AS")) {
      const t = this.#peek();
      name = t?.kind === "string" ? this.#string() : this.#name();
    } else {
      const t = this.#peek();
      if (t?.kind === "word" && (t.quoted || !RESERVED.has(t.upper))) name = this.#name();
    }
    return { kind: "expr", expr, name };
  }

  #expr(): Expr {
    const t = this.#peek();
    if (t === undefined) this.#fail();
    this.#pos++;
    switch (t.kind) {
      case "number":
        return {
          kind: "literal",
          value: /^[0-9]+$/.test(t.value)
            ? (Number.isSafeInteger(Number(t.value)) ? Number(t.value) : BigInt(t.value))
            : Number(t.value),
        };
      case "string":
        return { kind: "literal", value: t.value };
      case "sysvar":
        return { kind: "sysvar", scope: t.scope, name: t.name };
      case "uservar":
        return { kind: "uservar", name: t.name };
      case "param":
        return { kind: "param", index: this.#params++ };
      case "punct":
        if (t.value === "-") {
          const inner = this.#expr();
          if (inner.kind === "literal" && typeof inner.value === "number") {
            return { kind: "literal", value: -inner.value };
          }
          if (inner.kind === "literal" && typeof inner.value === "bigint") {
            return { kind: "literal", value: -inner.value };
          }
          return { kind: "negate", expr: inner };
        }
        if (t.value === "(") {
          const inner = this.#expr();
          this.#punct(")");
          return inner;
        }
        this.#pos--;
        return this.#fail();
      case "word": {
        if (!t.quoted && t.upper === "NULL") return { kind: "literal", value: null };
        if (!t.quoted && t.upper === "TRUE") return { kind: "literal", value: 1 };
        if (!t.quoted && t.upper === "FALSE") return { kind: "literal", value: 0 };
        if (!t.quoted && t.upper === "CONCAT" && this.#isPunct("(")) {
          this.#pos++;
          const args = [this.#expr()];
          while (this.#isPunct(",")) {
            this.#pos++;
            args.push(this.#expr());
          }
          this.#punct(")");
          return { kind: "concat", args };
        }
        if (!t.quoted && CALLS.has(t.upper) && this.#isPunct("(")) {
          this.#pos++;
          this.#punct(")");
          return { kind: "call", name: t.upper };
        }
        if (!t.quoted && RESERVED.has(t.upper)) {
          this.#pos--;
          return this.#fail();
        }
        return { kind: "column", name: t.value };
      }
    }
  }

  #where(): Condition[] {
    const where: Condition[] = [];
    if (!this.#accept("WHERE")) return where;
    do {
      const column = this.#name();
      this.#punct("=");
      where.push({ column, value: this.#expr() });
    } while (this.#accept("AND"));
    return where;
  }

  #show(): Statement {
    this.#word("SHOW");
    if (this.#accept("DATABASES", "SCHEMAS")) return { kind: "show-databases" };
    if (this.#accept("TABLES")) return { kind: "show-tables" };
    this.#accept("SESSION", "GLOBAL", "LOCAL");
    this.#word("VARIABLES");
    if (this.#accept("LIKE")) return { kind: "show-variables", like: this.#string() };
    return { kind: "show-variables", like: undefined };
  }

  #createTable(): Statement {
    this.#word("TABLE");
    const ifNotExists = this.#ifNotExists();
    const name = this.#tableName();
    this.#punct("(");
    const columns: ColumnSpec[] = [];
    let primary: string | undefined;
    do {
      if (columns.length > 0 || primary !== undefined) this.#punct(",");
      if (this.#accept("PRIMARY")) {
        this.#word("KEY");
        this.#punct("(");
        primary = this.#name();
        this.#punct(")");
        continue;
      }
      const column = this.#name();
      const type = this.#word(...TYPES);
      let length: number | undefined;
      if (type === "VARCHAR") {
        this.#punct("(");
        length = this.#integer();
        this.#punct(")");
      } else if (this.#isPunct("(") && type !== "TEXT" && type !== "LONGTEXT") {
        this.#pos++; // INT(11): a display width
        this.#integer();
        this.#punct(")");
      }
      let notNull = false, primaryKey = false, autoIncrement = false;
      for (;;) {
        if (this.#accept("NOT")) {
          this.#word("NULL");
          notNull = true;
        } else if (this.#accept("NULL")) {
          notNull = false;
        } else if (this.#accept("PRIMARY")) {
          this.#word("KEY");
          primaryKey = true;
        } else if (this.#accept("AUTO_INCREMENT")) {
          autoIncrement = true;
        } else break;
      }
      columns.push({
        name: column,
        type: type === "INTEGER" ? "INT" : type,
        length,
        notNull,
        primaryKey,
        autoIncrement,
      });
    } while (this.#isPunct(","));
    this.#punct(")");
    if (primary !== undefined) {
      const index = columns.findIndex((c) => c.name.toLowerCase() === primary!.toLowerCase());
      if (index < 0) this.#fail();
      columns[index] = { ...columns[index]!, primaryKey: true };
    }
    while (this.#accept("ENGINE", "DEFAULT", "CHARSET", "CHARACTER", "SET", "COLLATE")) {
      if (this.#isPunct("=")) this.#pos++;
      if (
        this.#peek()?.kind === "word" && !this.#isWord("DEFAULT", "CHARSET", "CHARACTER", "COLLATE")
      ) {
        this.#pos++;
      }
    }
    return { kind: "create-table", name, ifNotExists, columns };
  }

  #insert(): Statement {
    this.#word("INSERT");
    this.#word("INTO");
    const table = this.#tableName();
    let columns: string[] | undefined;
    if (this.#isPunct("(")) {
      this.#pos++;
      columns = [this.#name()];
      while (this.#isPunct(",")) {
        this.#pos++;
        columns.push(this.#name());
      }
      this.#punct(")");
    }
    this.#word("VALUES", "VALUE");
    const rows: Expr[][] = [];
    do {
      if (rows.length > 0) this.#punct(",");
      this.#punct("(");
      const row = [this.#expr()];
      while (this.#isPunct(",")) {
        this.#pos++;
        row.push(this.#expr());
      }
      this.#punct(")");
      rows.push(row);
    } while (this.#isPunct(","));
    return { kind: "insert", table, columns, rows };
  }

  #set(): Statement {
    this.#word("SET");
    if (this.#accept("NAMES")) {
      const charset = this.#setWord();
      const collation = this.#accept("COLLATE") ? this.#setWord() : undefined;
      return { kind: "set", assignments: [{ kind: "names", charset, collation }] };
    }
    if (this.#accept("CHARACTER")) {
      this.#word("SET");
      return {
        kind: "set",
        assignments: [{ kind: "names", charset: this.#setWord(), collation: undefined }],
      };
    }
    const assignments: Assignment[] = [];
    do {
      if (assignments.length > 0) this.#punct(",");
      assignments.push(this.#assignment());
    } while (this.#isPunct(","));
    return { kind: "set", assignments };
  }

  #setWord(): string {
    const t = this.#peek();
    if (t?.kind === "string") return this.#string();
    if (t?.kind === "word") return this.#name();
    return this.#fail();
  }

  #assignment(): Assignment {
    const t = this.#peek();
    if (t?.kind === "uservar") {
      this.#pos++;
      this.#assign();
      return { kind: "user", name: t.name, value: this.#expr() };
    }
    let scope: "session" | "global" = "session";
    let name: string;
    if (t?.kind === "sysvar") {
      this.#pos++;
      scope = t.scope ?? "session";
      name = t.name;
    } else {
      if (this.#accept("GLOBAL")) scope = "global";
      else this.#accept("SESSION", "LOCAL");
      const n = this.#peek();
      if (n?.kind === "sysvar") {
        this.#pos++;
        name = n.name;
      } else {
        name = this.#name().toLowerCase();
      }
    }
    this.#assign();
    return { kind: "system", scope, name, value: this.#setValue() };
  }

  #assign(): void {
    const t = this.#peek();
    if (t?.kind === "punct" && t.value === "=") {
      this.#pos++;
      return;
    }
    // `:=`
    if (t?.kind === "punct" && this.#sql.slice(t.start - 1, t.end) === ":=") {
      this.#pos++;
      return;
    }
    this.#fail();
  }

  /** ON, OFF, DEFAULT and bare words are their own text in SET. */
  #setValue(): Expr {
    const t = this.#peek();
    const call = t?.kind === "word" && (CALLS.has(t.upper) || t.upper === "CONCAT") &&
      this.#tokens[this.#pos + 1]?.kind === "punct" &&
      (this.#tokens[this.#pos + 1] as { value: string }).value === "(";
    if (
      t?.kind === "word" && !call && !["NULL", "TRUE", "FALSE"].includes(t.upper)
    ) {
      this.#pos++;
      const keyword = !t.quoted && /^(ON|OFF|DEFAULT)$/.test(t.upper);
      return { kind: "literal", value: keyword ? t.upper : t.value };
    }
    return this.#expr();
  }

  #loadData(): Statement {
    this.#word("LOAD");
    this.#word("DATA");
    this.#word("LOCAL");
    this.#word("INFILE");
    const file = this.#string();
    this.#accept("REPLACE", "IGNORE");
    this.#word("INTO");
    this.#word("TABLE");
    const table = this.#tableName();
    let fieldsTerminatedBy = "\t", linesTerminatedBy = "\n", ignoreLines = 0;
    if (this.#accept("CHARACTER")) {
      this.#word("SET");
      this.#setWord();
    }
    if (this.#accept("FIELDS", "COLUMNS")) {
      this.#word("TERMINATED");
      this.#word("BY");
      fieldsTerminatedBy = this.#string();
    }
    if (this.#accept("LINES")) {
      this.#word("TERMINATED");
      this.#word("BY");
      linesTerminatedBy = this.#string();
    }
    if (this.#accept("IGNORE")) {
      ignoreLines = this.#integer();
      this.#word("LINES", "ROWS");
    }
    if (fieldsTerminatedBy === "" || linesTerminatedBy === "") this.#fail();
    return { kind: "load-data", file, table, fieldsTerminatedBy, linesTerminatedBy, ignoreLines };
  }
}

const RESERVED = new Set([
  "FROM",
  "WHERE",
  "LIMIT",
  "AND",
  "AS",
  "SELECT",
  "INTO",
  "VALUES",
  "SET",
  "OFFSET",
  "ORDER",
  "GROUP",
  "UNION",
  "OR",
]);
