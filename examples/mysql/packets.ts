/**
 * MySQL's packets as the server writes them: the handshake, OK / ERR / EOF,
 * column definitions, text and binary rows, the LOCAL INFILE request, the
 * auth switch, the prepare answer. Each builder returns one payload.
 *
 * @module
 */
import { PacketWriter } from "./bytes.ts";

/** Capability flags (`CLIENT_*`). */
export const Capability = {
  LONG_PASSWORD: 1,
  FOUND_ROWS: 2,
  LONG_FLAG: 4,
  CONNECT_WITH_DB: 8,
  NO_SCHEMA: 16,
  ODBC: 64,
  LOCAL_FILES: 128,
  IGNORE_SPACE: 256,
  PROTOCOL_41: 512,
  INTERACTIVE: 1024,
  SSL: 2048,
  IGNORE_SIGPIPE: 4096,
  TRANSACTIONS: 8192,
  RESERVED: 16384,
  SECURE_CONNECTION: 32768,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  CAN_HANDLE_EXPIRED_PASSWORDS: 1 << 22,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
} as const;

/** What this server offers (the client's flags are ANDed with it). */
export const SERVER_CAPABILITIES: number = Capability.LONG_PASSWORD | Capability.FOUND_ROWS |
  Capability.LONG_FLAG | Capability.CONNECT_WITH_DB | Capability.NO_SCHEMA | Capability.ODBC |
  Capability.LOCAL_FILES | Capability.IGNORE_SPACE | Capability.PROTOCOL_41 |
  Capability.INTERACTIVE | Capability.IGNORE_SIGPIPE | Capability.TRANSACTIONS |
  Capability.RESERVED | Capability.SECURE_CONNECTION | Capability.MULTI_RESULTS |
  Capability.PS_MULTI_RESULTS | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capability.SESSION_TRACK | Capability.DEPRECATE_EOF;

/** Server status flags (`SERVER_*`). */
export const Status = {
  IN_TRANS: 1,
  AUTOCOMMIT: 2,
  MORE_RESULTS_EXISTS: 8,
  LAST_ROW_SENT: 128,
  SESSION_STATE_CHANGED: 16384,
} as const;

/** Commands (`COM_*`): the first byte of a command packet. */
export const Command = {
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  PING: 0x0e,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  RESET_CONNECTION: 0x1f,
} as const;

/** Column types (`MYSQL_TYPE_*`) this server uses or reads. */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  VARCHAR: 15,
  BIT: 16,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
} as const;

/** utf8mb4_general_ci. */
export const UTF8MB4 = 45;
/** binary (numbers). */
export const BINARY = 63;

/** Session-state tracker types in an OK packet. */
export const Tracker = { SYSTEM_VARIABLES: 0, SCHEMA: 1, STATE_CHANGE: 2 } as const;

/** One session-state change for an OK packet. */
export type TrackedChange =
  | { readonly type: 0; readonly name: string; readonly value: string }
  | { readonly type: 1; readonly schema: string }
  | { readonly type: 2 };

/** What an OK packet says. */
export interface OkInit {
  readonly affectedRows?: number;
  readonly lastInsertId?: number;
  readonly status: number;
  readonly warnings?: number;
  readonly info?: string;
  /** Session-state changes (sent only with CLIENT_SESSION_TRACK). */
  readonly changes?: readonly TrackedChange[];
  /** 0xFE instead of 0x00: the OK that ends a result set with DEPRECATE_EOF. */
  readonly eof?: boolean;
}

/** An OK packet for a client with `capabilities`. */
export function okPacket(init: OkInit, capabilities: number): Uint8Array {
  const w = new PacketWriter();
  const tracking = (capabilities & Capability.SESSION_TRACK) !== 0;
  const changes = tracking ? init.changes ?? [] : [];
  const status = changes.length > 0
    ? init.status | Status.SESSION_STATE_CHANGED
    : init.status & ~Status.SESSION_STATE_CHANGED;
  w.u8(init.eof ? 0xfe : 0x00).lenenc(init.affectedRows ?? 0).lenenc(init.lastInsertId ?? 0)
    .uint(status, 2).uint(init.warnings ?? 0, 2);
  if (!tracking) {
    if (init.info) w.text(init.info);
    return w.finish();
  }
  w.lenencBytes(init.info ?? "");
  if (changes.length > 0) {
    const block = new PacketWriter();
    for (const change of changes) {
      const data = new PacketWriter();
      if (change.type === Tracker.SYSTEM_VARIABLES) {
        data.lenencBytes(change.name).lenencBytes(change.value);
      } else if (change.type === Tracker.SCHEMA) {
        data.lenencBytes(change.schema);
      } else {
        data.lenencBytes("1");
      }
      block.u8(change.type).lenencBytes(data.finish());
    }
    w.lenencBytes(block.finish());
  }
  return w.finish();
}

/** An ERR packet: `code`, `sqlState` (5 characters), `message`. */
export function errPacket(code: number, sqlState: string, message: string): Uint8Array {
  return new PacketWriter().u8(0xff).uint(code, 2).text("#").text(sqlState).text(message)
    .finish();
}

/** A classic EOF packet. */
export function eofPacket(status: number, warnings = 0): Uint8Array {
  return new PacketWriter(5).u8(0xfe).uint(warnings, 2).uint(status, 2).finish();
}

/** A result set's first packet: its column count. */
export function columnCountPacket(count: number): Uint8Array {
  return new PacketWriter(9).lenenc(count).finish();
}

/** A column of a result set. */
export interface Column {
  readonly name: string;
  readonly type: number;
  readonly table?: string;
  readonly schema?: string;
  /** Display length. */
  readonly length?: number;
  readonly charset?: number;
  readonly flags?: number;
  readonly decimals?: number;
}

/** A ColumnDefinition41 packet. */
export function columnDefinition(column: Column): Uint8Array {
  const numeric = column.type !== ColumnType.VAR_STRING && column.type !== ColumnType.BLOB &&
    column.type !== ColumnType.STRING;
  return new PacketWriter(64).lenencBytes("def").lenencBytes(column.schema ?? "")
    .lenencBytes(column.table ?? "").lenencBytes(column.table ?? "").lenencBytes(column.name)
    .lenencBytes(column.name).lenenc(0x0c)
    .uint(column.charset ?? (numeric ? BINARY : UTF8MB4), 2)
    .uint(column.length ?? (numeric ? 20 : 1024), 4).u8(column.type)
    .uint(column.flags ?? (numeric ? 0x80 : 0), 2) // BINARY_FLAG for numbers
    .u8(column.decimals ?? (column.type === ColumnType.DOUBLE ? 31 : 0)).uint(0, 2)
    .finish();
}

/** A value of the engine: what a cell holds. */
export type SqlValue = null | number | bigint | string;

/** Text form of a value, as the text protocol sends it. */
export function textOf(value: Exclude<SqlValue, null>): string {
  return typeof value === "string" ? value : String(value);
}

// deno-lint-ignore no-control-regex -- every code point below 0x80, control characters included
const ASCII = /^[\x00-\x7f]*$/;
const rowEncoder = new TextEncoder();
const lenencSize = (n: number) => n < 0xfb ? 1 : n < 0x1_0000 ? 3 : n < 0x100_0000 ? 4 : 9;

/** A row of the text protocol (one allocation for an ASCII row: rows are the hot path). */
export function textRow(values: readonly SqlValue[]): Uint8Array {
  const parts: (string | Uint8Array | null)[] = new Array(values.length);
  let size = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value === null) {
      parts[i] = null;
      size += 1;
      continue;
    }
    const text = typeof value === "string" ? value : String(value);
    const part = ASCII.test(text) ? text : rowEncoder.encode(text);
    parts[i] = part;
    size += lenencSize(part.length) + part.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    if (part === null) {
      out[at++] = 0xfb;
      continue;
    }
    const n = part.length;
    if (n < 0xfb) out[at++] = n;
    else {
      const width = n < 0x1_0000 ? 2 : n < 0x100_0000 ? 3 : 8;
      out[at++] = width === 2 ? 0xfc : width === 3 ? 0xfd : 0xfe;
      for (let b = 0, v = n; b < width; b++, v = Math.floor(v / 256)) out[at++] = v % 256;
    }
    if (typeof part === "string") {
      for (let c = 0; c < n; c++) out[at++] = part.charCodeAt(c);
    } else {
      out.set(part, at);
      at += n;
    }
  }
  return out;
}

/** A row of the binary protocol (COM_STMT_EXECUTE's result set). */
export function binaryRow(columns: readonly Column[], values: readonly SqlValue[]): Uint8Array {
  const w = new PacketWriter(16 * values.length + 8);
  w.u8(0);
  const bitmap = new Uint8Array((columns.length + 7 + 2) >> 3);
  values.forEach((value, i) => {
    if (value === null) bitmap[(i + 2) >> 3]! |= 1 << ((i + 2) & 7);
  });
  w.bytes(bitmap);
  columns.forEach((column, i) => {
    const value = values[i] ?? null;
    if (value === null) return;
    switch (column.type) {
      case ColumnType.LONGLONG:
        w.u64(BigInt(value));
        break;
      case ColumnType.LONG:
        w.uint(Number(value) >>> 0, 4);
        break;
      case ColumnType.DOUBLE:
        w.f64(Number(value));
        break;
      default:
        w.lenencBytes(textOf(value));
    }
  });
  return w.finish();
}

/** What the handshake says. */
export interface HandshakeInit {
  readonly serverVersion: string;
  readonly connectionId: number;
  /** 20 bytes. */
  readonly scramble: Uint8Array;
  readonly status: number;
  /** The capabilities offered (default {@link SERVER_CAPABILITIES}; with TLS, `| Capability.SSL`). */
  readonly capabilities?: number;
}

/** Protocol::HandshakeV10, the server's first packet. */
export function handshakeV10(init: HandshakeInit): Uint8Array {
  const offered = init.capabilities ?? SERVER_CAPABILITIES;
  return new PacketWriter(96).u8(10).nulText(init.serverVersion).uint(init.connectionId, 4)
    .bytes(init.scramble.subarray(0, 8)).u8(0).uint(offered & 0xffff, 2)
    .u8(UTF8MB4).uint(init.status, 2).uint(offered >>> 16, 2)
    .u8(init.scramble.length + 1).bytes(new Uint8Array(10)).bytes(init.scramble.subarray(8))
    .u8(0).nulText("mysql_native_password").finish();
}

/** AuthSwitchRequest to mysql_native_password with a fresh scramble. */
export function authSwitchRequest(scramble: Uint8Array): Uint8Array {
  return new PacketWriter(48).u8(0xfe).nulText("mysql_native_password").bytes(scramble).u8(0)
    .finish();
}

/** The LOCAL INFILE request: 0xFB and the file name. */
export function localInfileRequest(fileName: string): Uint8Array {
  return new PacketWriter(fileName.length + 1).u8(0xfb).text(fileName).finish();
}

/** COM_STMT_PREPARE_OK. */
export function prepareOk(
  statementId: number,
  columns: number,
  params: number,
  warnings = 0,
): Uint8Array {
  return new PacketWriter(12).u8(0).uint(statementId, 4).uint(columns, 2).uint(params, 2).u8(0)
    .uint(warnings, 2).finish();
}
