/**
 * A tiny in-memory SQL engine for the subset of README.md: databases of
 * tables held in memory, MariaDB's `seq_1_to_N` tables generated lazily,
 * and each connection's session (database, variables, transaction flag, the
 * session-state changes of the command running).
 *
 * @module
 */
import {
  type Column,
  ColumnType,
  type SqlValue,
  Status,
  type TrackedChange,
  Tracker,
} from "./packets.ts";
import { SqlError } from "./sql_error.ts";
import type {
  Assignment,
  ColumnSpec,
  Condition,
  Expr,
  SelectItem,
  Statement,
} from "./sql_parser.ts";
import { SERVER_VERSION, SessionVariables } from "./variables.ts";

/** A column of a table. */
interface TableColumn extends ColumnSpec {
  readonly column: Column;
}

/** A table: its columns and rows. */
export class Table {
  readonly name: string;
  readonly columns: readonly TableColumn[];
  readonly rows: SqlValue[][] = [];
  readonly #primary: number;
  readonly #keys = new Set<string>();
  #nextId = 1;

  constructor(schema: string, name: string, specs: readonly ColumnSpec[]) {
    this.name = name;
    this.columns = specs.map((spec) => ({ ...spec, column: columnOf(schema, name, spec) }));
    this.#primary = specs.findIndex((spec) => spec.primaryKey);
  }

  /** The index of column `name` (case-insensitive), or -1. */
  indexOf(name: string): number {
    const lower = name.toLowerCase();
    return this.columns.findIndex((c) => c.name.toLowerCase() === lower);
  }

  /**
   * Add one row of values in column order (`undefined`: not given); returns
   * the auto-increment id it took, or 0.
   *
   * @throws {SqlError} 1048, 1062, 1366, 1406
   */
  insert(values: readonly (SqlValue | undefined)[], rowNumber: number): number {
    let id = 0;
    const row = this.columns.map((spec, i) => {
      let value = values[i];
      if ((value === undefined || value === null) && spec.autoIncrement) {
        id = this.#nextId;
        value = id;
      }
      return coerce(spec, value ?? null, rowNumber);
    });
    if (this.#primary >= 0) {
      const key = String(row[this.#primary]);
      if (this.#keys.has(key)) {
        throw new SqlError(1062, "23000", `Duplicate entry '${key}' for key 'PRIMARY'`);
      }
      this.#keys.add(key);
    }
    const auto = this.columns.findIndex((c) => c.autoIncrement);
    if (auto >= 0 && typeof row[auto] === "number") {
      this.#nextId = Math.max(this.#nextId, (row[auto] as number) + 1);
    }
    this.rows.push(row);
    return id;
  }

  /** Remove the rows `keep` refuses; returns how many. */
  delete(matches: (row: readonly SqlValue[]) => boolean): number {
    let removed = 0;
    for (let i = this.rows.length - 1; i >= 0; i--) {
      if (!matches(this.rows[i]!)) continue;
      if (this.#primary >= 0) this.#keys.delete(String(this.rows[i]![this.#primary]));
      this.rows.splice(i, 1);
      removed++;
    }
    return removed;
  }
}

function columnOf(schema: string, table: string, spec: ColumnSpec): Column {
  const base = { name: spec.name, table, schema };
  switch (spec.type) {
    case "INT":
      return { ...base, type: ColumnType.LONG, length: 11 };
    case "BIGINT":
      return { ...base, type: ColumnType.LONGLONG, length: 20 };
    case "DOUBLE":
      return { ...base, type: ColumnType.DOUBLE, length: 22 };
    case "VARCHAR":
      return { ...base, type: ColumnType.VAR_STRING, length: (spec.length ?? 255) * 4 };
    case "TEXT":
      return { ...base, type: ColumnType.BLOB, length: 65_535 * 4, flags: 16 };
    default:
      return { ...base, type: ColumnType.BLOB, length: 0xffff_ffff, flags: 16 };
  }
}

function coerce(spec: ColumnSpec, value: SqlValue, row: number): SqlValue {
  if (value === null) {
    if (spec.notNull || spec.primaryKey) {
      throw new SqlError(1048, "23000", `Column '${spec.name}' cannot be null`);
    }
    return null;
  }
  switch (spec.type) {
    case "INT":
    case "BIGINT": {
      if (typeof value === "bigint") return value;
      if (typeof value === "number") return Math.trunc(value);
      if (!/^\s*[-+]?[0-9]+\s*$/.test(value)) {
        throw new SqlError(
          1366,
          "22007",
          `Incorrect integer value: '${value}' for column '${spec.name}' at row ${row}`,
        );
      }
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : BigInt(value.trim());
    }
    case "DOUBLE": {
      const n = Number(value);
      if (typeof value === "string" && (value.trim() === "" || Number.isNaN(n))) {
        throw new SqlError(
          1366,
          "22007",
          `Incorrect double value: '${value}' for column '${spec.name}' at row ${row}`,
        );
      }
      return n;
    }
    default: {
      const text = String(value);
      if (spec.length !== undefined && [...text].length > spec.length) {
        throw new SqlError(1406, "22001", `Data too long for column '${spec.name}' at row ${row}`);
      }
      return text;
    }
  }
}

/**
 * Every database of one server. Database and table names are kept as
 * written and compared in lower case (`lower_case_table_names` = 2).
 */
export class Catalog {
  readonly #databases = new Map<string, { name: string; tables: Map<string, Table> }>();

  /** A catalog with the empty databases `names`. */
  constructor(names: readonly string[] = []) {
    for (const name of names) this.create(name);
  }

  /** The name of database `name` as it was created, or undefined. */
  nameOf(name: string): string | undefined {
    return this.#databases.get(name.toLowerCase())?.name;
  }

  /** True if database `name` exists. */
  has(name: string): boolean {
    return this.#databases.has(name.toLowerCase());
  }

  /** Database names, sorted. */
  names(): string[] {
    return [...this.#databases.values()].map((db) => db.name).sort();
  }

  /** Create database `name`; false if it exists. */
  create(name: string): boolean {
    if (this.has(name)) return false;
    this.#databases.set(name.toLowerCase(), { name, tables: new Map() });
    return true;
  }

  /** Drop database `name`; false if there is none. */
  drop(name: string): boolean {
    return this.#databases.delete(name.toLowerCase());
  }

  /** The tables of database `name` (it must exist), by lower-case name. */
  tables(name: string): Map<string, Table> {
    return this.#databases.get(name.toLowerCase())!.tables;
  }
}

/** A result set: columns, then rows, possibly generated lazily. */
export interface Rows {
  readonly kind: "rows";
  readonly columns: readonly Column[];
  readonly rows: Iterable<readonly SqlValue[]>;
}

/** A statement's OK. */
export interface Done {
  readonly kind: "ok";
  readonly affectedRows: number;
  readonly lastInsertId: number;
  readonly warnings: number;
  readonly info: string;
}

/** LOAD DATA LOCAL INFILE: the server must ask for `file` and feed it to a loader. */
export interface LoadRequest {
  readonly kind: "load-data";
  readonly file: string;
  readonly loader: () => RowLoader;
}

/** What a statement produced. */
export type Result = Rows | Done | LoadRequest;

/** One connection's SQL session. */
export class Session {
  database: string | undefined;
  readonly variables: SessionVariables = new SessionVariables();
  readonly userVariables: Map<string, SqlValue> = new Map();
  inTransaction = false;
  lastInsertId = 0;
  readonly connectionId: number;
  readonly user: string;
  #changes: TrackedChange[] = [];
  #stateChanged = false;

  constructor(connectionId: number, user: string) {
    this.connectionId = connectionId;
    this.user = user;
  }

  /** Status flags for the next OK or EOF. */
  get status(): number {
    return (this.variables.get("autocommit") ? Status.AUTOCOMMIT : 0) |
      (this.inTransaction ? Status.IN_TRANS : 0);
  }

  /** Switch to `database` (it exists) and track it. */
  useDatabase(database: string): void {
    if (this.database === database) return;
    this.database = database;
    if (this.variables.get("session_track_schema")) {
      this.#changes.push({ type: Tracker.SCHEMA, schema: database });
    }
    this.#stateChanged = true;
  }

  /** Set a system variable and track it. */
  setVariable(name: string, value: SqlValue | undefined): void {
    if (!this.variables.set(name, value)) return;
    const tracked = String(this.variables.get("session_track_system_variables")).toLowerCase()
      .split(",").map((n) => n.trim());
    if (tracked.includes("*") || tracked.includes(name)) {
      this.#changes = this.#changes.filter((c) => !(c.type === 0 && c.name === name));
      this.#changes.push({
        type: Tracker.SYSTEM_VARIABLES,
        name,
        value: this.variables.text(name),
      });
    }
    this.#stateChanged = true;
  }

  /** A user variable changed. */
  setUserVariable(name: string, value: SqlValue): void {
    this.userVariables.set(name, value);
    this.#stateChanged = true;
  }

  /** The changes to stamp on this command's final OK; clears them. */
  takeChanges(): TrackedChange[] {
    const changes = this.#changes;
    if (this.#stateChanged && this.variables.get("session_track_state_change")) {
      changes.push({ type: Tracker.STATE_CHANGE });
    }
    this.#changes = [];
    this.#stateChanged = false;
    return changes;
  }
}

const SEQ = /^seq_([0-9]+)_to_([0-9]+)(?:_step_([0-9]+))?$/i;
const ok = (affectedRows = 0, lastInsertId = 0, info = "", warnings = 0): Done => ({
  kind: "ok",
  affectedRows,
  lastInsertId,
  info,
  warnings,
});

/** Executes statements of the subset against a catalog. */
export class Engine {
  readonly catalog: Catalog;

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  /**
   * Run `statement` with `params` bound to its `?`s.
   *
   * @throws {SqlError} with MySQL's code and SQLSTATE
   */
  execute(session: Session, statement: Statement, params: readonly SqlValue[] = []): Result {
    const value = (expr: Expr) => this.#value(session, expr, params);
    switch (statement.kind) {
      case "select":
        return this.#select(session, statement, params);
      case "create-database":
        if (!this.catalog.create(statement.name) && !statement.ifNotExists) {
          throw new SqlError(
            1007,
            "HY000",
            `Can't create database '${statement.name}'; database exists`,
          );
        }
        return ok(1);
      case "drop-database":
        if (!this.catalog.drop(statement.name) && !statement.ifExists) {
          throw new SqlError(
            1008,
            "HY000",
            `Can't drop database '${statement.name}'; database doesn't exist`,
          );
        }
        if (session.database?.toLowerCase() === statement.name.toLowerCase()) {
          session.database = undefined;
        }
        return ok();
      case "use":
        this.use(session, statement.name);
        return ok();
      case "show-databases":
        return {
          kind: "rows",
          columns: [{ name: "Database", type: ColumnType.VAR_STRING, table: "SCHEMATA" }],
          rows: this.catalog.names().map((n) => [n]),
        };
      case "show-tables": {
        const db = this.#database(session, undefined);
        return {
          kind: "rows",
          columns: [{ name: `Tables_in_${db}`, type: ColumnType.VAR_STRING, table: "TABLES" }],
          rows: [...this.catalog.tables(db).values()].map((t) => [t.name]),
        };
      }
      case "show-variables": {
        const like = statement.like === undefined ? undefined : likePattern(statement.like);
        return {
          kind: "rows",
          columns: [
            { name: "Variable_name", type: ColumnType.VAR_STRING },
            { name: "Value", type: ColumnType.VAR_STRING },
          ],
          rows: session.variables.names().filter((n) => like === undefined || like.test(n))
            .map((n) => [n, session.variables.text(n)]),
        };
      }
      case "create-table": {
        const [db, name] = this.#tableRef(session, statement.name);
        const tables = this.catalog.tables(db);
        if (tables.has(name.toLowerCase()) || SEQ.test(name)) {
          if (statement.ifNotExists) return ok();
          throw new SqlError(1050, "42S01", `Table '${name}' already exists`);
        }
        tables.set(name.toLowerCase(), new Table(db, name, statement.columns));
        return ok();
      }
      case "drop-table": {
        for (const ref of statement.names) {
          const [db, name] = this.#tableRef(session, ref);
          if (!this.catalog.tables(db).delete(name.toLowerCase()) && !statement.ifExists) {
            throw new SqlError(1051, "42S02", `Unknown table '${db}.${name}'`);
          }
        }
        return ok();
      }
      case "insert": {
        const table = this.#table(session, statement.table);
        const indexes = statement.columns?.map((name) => {
          const i = table.indexOf(name);
          if (i < 0) throw new SqlError(1054, "42S22", `Unknown column '${name}' in 'field list'`);
          return i;
        });
        let lastId = 0;
        statement.rows.forEach((row, r) => {
          const width = indexes?.length ?? table.columns.length;
          if (row.length !== width) {
            throw new SqlError(
              1136,
              "21S01",
              `Column count doesn't match value count at row ${r + 1}`,
            );
          }
          const values: (SqlValue | undefined)[] = indexes
            ? new Array(table.columns.length).fill(undefined)
            : [];
          row.forEach((expr, i) => {
            values[indexes ? indexes[i]! : i] = value(expr);
          });
          const id = table.insert(values, r + 1);
          if (id !== 0 && lastId === 0) lastId = id;
        });
        if (lastId !== 0) session.lastInsertId = lastId;
        const n = statement.rows.length;
        return ok(n, lastId, n > 1 ? `Records: ${n}  Duplicates: 0  Warnings: 0` : "");
      }
      case "delete": {
        const table = this.#table(session, statement.table);
        const matches = this.#matcher(session, table, statement.where, params);
        return ok(table.delete(matches));
      }
      case "set":
        for (const assignment of statement.assignments) this.#set(session, assignment, params);
        return ok();
      case "begin":
        session.inTransaction = true;
        return ok();
      case "commit":
      case "rollback":
        session.inTransaction = false;
        return ok();
      case "load-data": {
        const table = this.#table(session, statement.table);
        const { fieldsTerminatedBy, linesTerminatedBy, ignoreLines } = statement;
        return {
          kind: "load-data",
          file: statement.file,
          loader: () => new RowLoader(table, fieldsTerminatedBy, linesTerminatedBy, ignoreLines),
        };
      }
    }
  }

  /**
   * USE / COM_INIT_DB / CONNECT_WITH_DB.
   *
   * @throws {SqlError} 1049 for an unknown database
   */
  use(session: Session, name: string): void {
    const database = this.catalog.nameOf(name);
    if (database === undefined) throw new SqlError(1049, "42000", `Unknown database '${name}'`);
    session.useDatabase(database);
  }

  /** The columns of `table` (COM_FIELD_LIST). */
  fields(session: Session, table: string): readonly Column[] {
    return this.#table(session, table).columns.map((c) => c.column);
  }

  #database(session: Session, name: string | undefined): string {
    const db = name ?? session.database;
    if (db === undefined) throw new SqlError(1046, "3D000", "No database selected");
    const database = this.catalog.nameOf(db);
    if (database === undefined) throw new SqlError(1049, "42000", `Unknown database '${db}'`);
    return database;
  }

  #tableRef(session: Session, ref: string): [string, string] {
    const dot = ref.indexOf(".");
    if (dot < 0) return [this.#database(session, undefined), ref];
    return [this.#database(session, ref.slice(0, dot)), ref.slice(dot + 1)];
  }

  #table(session: Session, ref: string): Table {
    const [db, name] = this.#tableRef(session, ref);
    const table = this.catalog.tables(db).get(name.toLowerCase());
    if (table === undefined) {
      throw new SqlError(1146, "42S02", `Table '${db}.${name}' doesn't exist`);
    }
    return table;
  }

  #value(session: Session, expr: Expr, params: readonly SqlValue[]): SqlValue {
    switch (expr.kind) {
      case "literal":
        return expr.value;
      case "param":
        return params[expr.index] ?? null;
      case "sysvar":
        return session.variables.get(expr.name);
      case "uservar":
        return session.userVariables.get(expr.name) ?? null;
      case "call":
        switch (expr.name) {
          case "DATABASE":
          case "SCHEMA":
            return session.database ?? null;
          case "CONNECTION_ID":
            return session.connectionId;
          case "VERSION":
            return SERVER_VERSION;
          case "LAST_INSERT_ID":
            return session.lastInsertId;
          default:
            return `${session.user}@localhost`;
        }
        break;
      case "concat": {
        const parts = expr.args.map((arg) => this.#value(session, arg, params));
        return parts.includes(null) ? null : parts.map((part) => String(part)).join("");
      }
      case "negate": {
        const v = this.#value(session, expr.expr, params);
        return v === null ? null : typeof v === "bigint" ? -v : -Number(v);
      }
      case "column":
        throw new SqlError(1054, "42S22", `Unknown column '${expr.name}' in 'field list'`);
    }
  }

  #set(session: Session, assignment: Assignment, params: readonly SqlValue[]): void {
    if (assignment.kind === "user") {
      session.setUserVariable(assignment.name, this.#value(session, assignment.value, params));
      return;
    }
    if (assignment.kind === "names") {
      const charset = assignment.charset.toLowerCase();
      for (
        const name of ["character_set_client", "character_set_connection", "character_set_results"]
      ) {
        session.setVariable(name, charset);
      }
      session.setVariable(
        "collation_connection",
        assignment.collation?.toLowerCase() ?? `${charset}_general_ci`,
      );
      return;
    }
    session.variables.get(assignment.name); // 1193 for an unknown one
    const raw = this.#value(session, assignment.value, params);
    session.setVariable(assignment.name, raw === "DEFAULT" ? undefined : raw);
  }

  #matcher(
    session: Session,
    table: Table,
    where: readonly Condition[],
    params: readonly SqlValue[],
  ): (row: readonly SqlValue[]) => boolean {
    const tests = where.map((condition) => {
      const i = table.indexOf(condition.column);
      if (i < 0) {
        throw new SqlError(1054, "42S22", `Unknown column '${condition.column}' in 'where clause'`);
      }
      const wanted = this.#value(session, condition.value, params);
      return (row: readonly SqlValue[]) => sqlEquals(row[i]!, wanted);
    });
    return (row) => tests.every((test) => test(row));
  }

  #select(
    session: Session,
    statement: Extract<Statement, { kind: "select" }>,
    params: readonly SqlValue[],
  ): Rows {
    const limit = statement.limit && Number(this.#value(session, statement.limit, params));
    const offset = statement.offset ? Number(this.#value(session, statement.offset, params)) : 0;
    if (statement.from === undefined) {
      if (statement.items.some((item) => item.kind === "star")) {
        throw new SqlError(1096, "HY000", "No tables used");
      }
      const items = statement.items as Extract<SelectItem, { kind: "expr" }>[];
      const row = items.map((item) => this.#value(session, item.expr, params));
      return {
        kind: "rows",
        columns: items.map((item, i) => ({ name: item.name, type: typeOf(row[i]!) })),
        rows: limit === 0 || offset > 0 ? [] : [row],
      };
    }
    const { schema, table: name } = statement.from;
    const seq = SEQ.exec(name);
    const source = seq
      ? sequenceTable(schema ?? session.database ?? "", name, seq)
      : this.#table(session, schema ? `${schema}.${name}` : name);
    const picks: { column: Column; get: (row: readonly SqlValue[]) => SqlValue }[] = [];
    for (const item of statement.items) {
      if (item.kind === "star") {
        source.columns.forEach((c, i) => picks.push({ column: c.column, get: (row) => row[i]! }));
        continue;
      }
      if (item.expr.kind === "column") {
        const i = source.indexOf(item.expr.name);
        if (i < 0) {
          throw new SqlError(1054, "42S22", `Unknown column '${item.expr.name}' in 'field list'`);
        }
        picks.push({
          column: { ...source.columns[i]!.column, name: item.name },
          get: (row) => row[i]!,
        });
        continue;
      }
      const constant = this.#value(session, item.expr, params);
      picks.push({ column: { name: item.name, type: typeOf(constant) }, get: () => constant });
    }
    const matches = this.#matcher(session, source as Table, statement.where, params);
    const rows = source.rows;
    return {
      kind: "rows",
      columns: picks.map((p) => p.column),
      rows: {
        *[Symbol.iterator]() {
          let skipped = 0, sent = 0;
          if (limit === 0) return;
          for (const row of rows) {
            if (!matches(row)) continue;
            if (skipped < offset) {
              skipped++;
              continue;
            }
            yield picks.map((p) => p.get(row));
            if (limit !== undefined && ++sent >= limit) return;
          }
        },
      },
    };
  }
}

/** MariaDB's SEQUENCE engine: `seq_FROM_to_TO[_step_S]`, one BIGINT column `seq`, made lazily. */
function sequenceTable(schema: string, name: string, match: RegExpExecArray): Table {
  const from = Number(match[1]), to = Number(match[2]), step = Number(match[3] ?? 1) || 1;
  const table = new Table(schema, name, [{
    name: "seq",
    type: "BIGINT",
    length: undefined,
    notNull: true,
    primaryKey: false,
    autoIncrement: false,
  }]);
  return Object.defineProperty(Object.create(table), "rows", {
    value: {
      *[Symbol.iterator]() {
        if (from <= to) { for (let n = from; n <= to; n += step) yield [n]; }
        else for (let n = from; n >= to; n -= step) yield [n];
      },
    },
  });
}

function typeOf(value: SqlValue): number {
  if (value === null) return ColumnType.NULL;
  if (typeof value === "bigint") return ColumnType.LONGLONG;
  if (typeof value === "number") {
    return Number.isInteger(value) ? ColumnType.LONGLONG : ColumnType.DOUBLE;
  }
  return ColumnType.VAR_STRING;
}

function sqlEquals(a: SqlValue, b: SqlValue): boolean {
  if (a === null || b === null) return false;
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  const x = Number(a), y = Number(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x === y;
  return String(a) === String(b);
}

function likePattern(like: string): RegExp {
  const body = like.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%/g, ".*").replace(/_/g, ".");
  return new RegExp(`^${body}$`, "i");
}

/** Inserts the records of a LOAD DATA file as its text arrives, in pieces of any size. */
export class RowLoader {
  readonly #table: Table;
  readonly #fields: string;
  readonly #lines: string;
  #ignore: number;
  #pending = "";
  #records = 0;
  #inserted = 0;
  #skipped = 0;
  #warnings = 0;

  constructor(table: Table, fields: string, lines: string, ignore: number) {
    this.#table = table;
    this.#fields = fields;
    this.#lines = lines;
    this.#ignore = ignore;
  }

  /** The next piece of the file: its complete records are inserted now. */
  push(text: string): void {
    const records = (this.#pending + text).split(this.#lines);
    this.#pending = records.pop()!;
    for (const record of records) this.#record(record);
  }

  /** The end of the file (a last record without a terminator counts): the OK's numbers. */
  end(): Done {
    if (this.#pending !== "") this.#record(this.#pending);
    this.#pending = "";
    return ok(
      this.#inserted,
      0,
      `Records: ${this.#inserted + this.#skipped}  Deleted: 0  Skipped: ${this.#skipped}  ` +
        `Warnings: ${this.#warnings}`,
      this.#warnings,
    );
  }

  #record(record: string): void {
    if (this.#ignore > 0) {
      this.#ignore--;
      return;
    }
    const columns = this.#table.columns;
    const cells = record.split(this.#fields);
    if (cells.length !== columns.length) this.#warnings++;
    const values = columns.map((_, i) => {
      const cell = cells[i];
      return cell === undefined || cell === "\\N" ? null : cell;
    });
    try {
      this.#table.insert(values, ++this.#records);
      this.#inserted++;
    } catch (error) {
      if (!(error instanceof SqlError)) throw error;
      this.#skipped++;
      this.#warnings++;
    }
  }
}
