/**
 * The MySQL-protocol server app: handshake, `mysql_native_password`, the
 * commands, result sets streamed row by row, prepared statements and LOAD
 * DATA LOCAL INFILE as a conversation, on the library's general tools:
 *
 * - framing: `LengthDelimitedCodec` (3-byte LE length) and the
 *   {@link MysqlPacketStrategy} (sequence id, 0xFFFFFF continuation);
 * - `greeting`: the server speaks first (Handshake v10);
 * - `phases`: "auth" until the client is authenticated, then "ready";
 * - conversations: `ctx.next()` for the auth switch and `ctx.receive()` for
 *   the file of LOAD DATA LOCAL INFILE;
 * - streamed responses: a result set is a generator, so a 10,000,000-row
 *   `seq_1_to_N` waits for a slow reader with flat memory;
 * - pushes: ERR 1053 to idle connections at shutdown ({@link MysqlServer.notifyShutdown}).
 *
 * @module
 */
import {
  ConnectionTimeoutError,
  type Context,
  type Envelope,
  type HandlerResult,
  type Serializer,
  WireframeApp,
} from "@wireframe/wireframe";
import { FragmentError } from "@wireframe/wireframe/fragment";
import { CodecError } from "@wireframe/wireframe/codec";
import { isSslRequest, newScramble, parseHandshakeResponse, verifyNativePassword } from "./auth.ts";
import { MalformedPacketError, PacketReader } from "./bytes.ts";
import { Catalog, Engine, type Result, Session } from "./engine.ts";
import { mysqlPacketCodec } from "./packet_codec.ts";
import { MysqlPacketStrategy } from "./packet_strategy.ts";
import {
  authSwitchRequest,
  binaryRow,
  Capability,
  type Column,
  columnCountPacket,
  columnDefinition,
  ColumnType,
  Command,
  eofPacket,
  errPacket,
  handshakeV10,
  localInfileRequest,
  okPacket,
  prepareOk,
  SERVER_CAPABILITIES,
  type SqlValue,
  Status,
  textRow,
} from "./packets.ts";
import { SqlError, syntaxError } from "./sql_error.ts";
import { parse, type Statement } from "./sql_parser.ts";
import { SERVER_VERSION } from "./variables.ts";

/** Options of {@link mysqlApp}. */
export interface MysqlOptions {
  /** The one account's user name. Default "root". */
  readonly user?: string;
  /** Its password. Default empty. */
  readonly password?: string;
  /** A database created empty at start. Default "test". */
  readonly database?: string;
  /** Time a client has to authenticate, in ms (MariaDB's `connect_timeout`). Default 10,000. */
  readonly handshakeTimeoutMs?: number;
  /** Largest LOAD DATA file accepted, in bytes. Default: no limit (it is inserted as it arrives). */
  readonly maxInfileBytes?: number;
  /**
   * Offer TLS (CLIENT_SSL): a client's SSLRequest upgrades the connection
   * with `ctx.upgradeTls()`, so the server must listen with `startTls`.
   * Default false.
   */
  readonly tls?: boolean;
  /** Refuse logins that are not over TLS (ERR 3159), as `--require-secure-transport`. Default false. */
  readonly requireSecureTransport?: boolean;
}

/** A statement prepared on one connection. */
interface Prepared {
  readonly statement: Statement;
  readonly params: number;
  /** Parameter types from the last execute that sent them. */
  types: number[];
  /** COM_STMT_SEND_LONG_DATA chunks per parameter. */
  readonly longData: Map<number, Uint8Array[]>;
}

/** What the server keeps per connection. */
export interface MysqlConnection {
  readonly scramble: Uint8Array;
  /** The capabilities both sides have (after the handshake response). */
  capabilities: number;
  session: Session | undefined;
  readonly statements: Map<number, Prepared>;
  nextStatementId: number;
  /** True while a command runs (a shutdown notice goes to idle connections only). */
  busy: boolean;
  /** True once the connection is TLS (after an SSLRequest). */
  secure: boolean;
  readonly ctx: { readonly push: Context<MysqlConnection>["push"] };
}

/** The app and what the CLI needs beside it. */
export interface MysqlServer {
  readonly app: WireframeApp<MysqlConnection>;
  readonly engine: Engine;
  /**
   * Push ERR 1053 "Server shutdown in progress" to every idle connection
   * (call before `server.shutdown()`); resolves once they are queued.
   */
  notifyShutdown(): Promise<void>;
}

/** The message id of the authentication packet (routed in the "auth" phase by a middleware). */
const AUTH = 0x100;
/** The message id of an empty packet (the end of a LOCAL INFILE file). */
const EMPTY = 0x101;
const MiB = 1024 * 1024;
const decoder = new TextDecoder();

/** The envelope of a MySQL packet: its first byte routes it, the payload is all of it. */
export const mysqlSerializer: Serializer = {
  decode: (body) => ({ id: body.length === 0 ? EMPTY : body[0]!, payload: body }),
  encode: (envelope: Envelope) => envelope.payload,
  encodedLength: (envelope: Envelope) => envelope.payload.length,
  encodeInto(envelope: Envelope, target: Uint8Array, offset: number) {
    target.set(envelope.payload, offset);
    return envelope.payload.length;
  },
};

const errOf = (error: unknown): Uint8Array => {
  if (error instanceof SqlError) return errPacket(error.code, error.sqlState, error.message);
  if (error instanceof MalformedPacketError) {
    return errPacket(1835, "HY000", `Malformed communication packet: ${error.message}`);
  }
  return errPacket(1105, "HY000", `Unknown error: ${(error as Error)?.message ?? error}`);
};

/** Build the server: one catalog, one account. */
export function mysqlApp(options: MysqlOptions = {}): MysqlServer {
  const user = options.user ?? "root";
  const password = options.password ?? "";
  const maxInfile = options.maxInfileBytes ?? Number.POSITIVE_INFINITY;
  const engine = new Engine(new Catalog([options.database ?? "test"]));
  const live = new Set<MysqlConnection>();
  const offered = options.tls ? SERVER_CAPABILITIES | Capability.SSL : SERVER_CAPABILITIES;

  const ok = (conn: MysqlConnection, init: Partial<Parameters<typeof okPacket>[0]> = {}) =>
    okPacket(
      {
        status: conn.session?.status ?? Status.AUTOCOMMIT,
        changes: conn.session?.takeChanges(),
        ...init,
      },
      conn.capabilities,
    );
  const endOfRows = (conn: MysqlConnection) =>
    (conn.capabilities & Capability.DEPRECATE_EOF) !== 0
      ? ok(conn, { eof: true })
      : eofPacket(conn.session?.status ?? Status.AUTOCOMMIT);
  const columnsEnd = (conn: MysqlConnection) =>
    (conn.capabilities & Capability.DEPRECATE_EOF) !== 0
      ? []
      : [eofPacket(conn.session?.status ?? Status.AUTOCOMMIT)];

  /**
   * The packets of a statement's result: one OK, or a result set (as an
   * array when its rows are already in memory, else streamed row by row), or
   * the LOAD DATA conversation.
   */
  function respond(
    result: Result,
    conn: MysqlConnection,
    ctx: Context<MysqlConnection>,
    binary: boolean,
  ): HandlerResult {
    if (result.kind === "ok") return ok(conn, result);
    if (result.kind === "load-data") return loadData(result, conn, ctx);
    const { columns } = result;
    const head = [
      columnCountPacket(columns.length),
      ...columns.map(columnDefinition),
      ...columnsEnd(conn),
    ];
    const row = binary ? (values: readonly SqlValue[]) => binaryRow(columns, values) : textRow;
    if (Array.isArray(result.rows)) {
      return [...head, ...(result.rows as readonly SqlValue[][]).map(row), endOfRows(conn)];
    }
    return (async function* () {
      yield* head;
      try {
        for (const values of result.rows) yield row(values);
      } catch (error) {
        yield errOf(error);
        return;
      }
      yield endOfRows(conn);
    })();
  }

  async function* loadData(
    request: Extract<Result, { kind: "load-data" }>,
    conn: MysqlConnection,
    ctx: Context<MysqlConnection>,
  ): AsyncGenerator<Uint8Array> {
    if ((conn.capabilities & Capability.LOCAL_FILES) === 0) {
      yield errPacket(1148, "42000", "The used command is not allowed with this MySQL version");
      return;
    }
    yield localInfileRequest(request.file);
    // Packets until the empty one, inserted as they come: a file of any size in flat memory.
    const loader = request.loader();
    const text = new TextDecoder();
    let total = 0;
    let failure: unknown;
    for await (const packet of ctx.receive({ timeoutMs: 60_000 })) {
      if (packet.payload.length === 0) break; // the end of the file
      total += packet.payload.length;
      if (failure !== undefined || total > maxInfile) continue; // read on to the end, then answer
      try {
        loader.push(text.decode(packet.payload, { stream: true }));
      } catch (error) {
        failure = error;
      }
    }
    if (total === 0) {
      yield errPacket(
        1148,
        "42000",
        `LOAD DATA LOCAL INFILE: the client sent no data for '${request.file}' (refused or empty)`,
      );
      return;
    }
    if (total > maxInfile) {
      yield errPacket(1153, "08S01", `Got a packet bigger than 'max_allowed_packet' bytes`);
      return;
    }
    let done;
    try {
      if (failure !== undefined) throw failure;
      loader.push(text.decode());
      done = loader.end();
    } catch (error) {
      yield errOf(error);
      return;
    }
    yield ok(conn, done);
  }

  const session = (ctx: Context<MysqlConnection>) => ctx.state.session!;

  const app = new WireframeApp<MysqlConnection>()
    .codec(mysqlPacketCodec())
    .fragmentation(new MysqlPacketStrategy(), {
      maxMessageSize: 64 * MiB,
      maxBufferedBytes: 64 * MiB,
    })
    .serializer(mysqlSerializer)
    .phases({ initial: "auth" })
    .timeouts({ handshakeMs: options.handshakeTimeoutMs ?? 10_000 })
    .onConnectionSetup((info) => {
      const conn: MysqlConnection = {
        scramble: newScramble(),
        capabilities: 0,
        session: undefined,
        statements: new Map(),
        nextStatementId: 1,
        busy: false,
        secure: false,
        ctx: { push: info.push },
      };
      live.add(conn);
      return conn;
    })
    .onConnectionTeardown((conn) => void live.delete(conn))
    .withProtocol({
      greeting: (ctx) =>
        handshakeV10({
          serverVersion: SERVER_VERSION,
          connectionId: ctx.connectionId,
          scramble: ctx.state.scramble,
          status: Status.AUTOCOMMIT,
          capabilities: offered,
        }),
      phaseViolation: () => errPacket(1043, "08S01", "Bad handshake"),
      closingFrames: (error) =>
        error instanceof ConnectionTimeoutError
          ? errPacket(1159, "08S01", "Got timeout reading communication packets")
          : error instanceof FragmentError || error instanceof CodecError
          ? errPacket(1156, "08S01", "Got packets out of order")
          : undefined,
      onCommandEnd: (ctx) => {
        ctx.state.busy = false;
      },
    })
    // In the "auth" phase every packet is the handshake response (it has no command byte).
    .wrap((request, ctx, next) => {
      ctx.state.busy = true;
      return next(ctx.phase === "auth" ? { ...request, id: AUTH } : undefined);
    })
    .route(AUTH, async function* (request, ctx) {
      const conn = ctx.state;
      // SSLRequest (sequence id 1): TLS now, its ClientHello is right behind; the full
      // HandshakeResponse follows over TLS (sequence id 2) and is routed here again.
      if (options.tls && !conn.secure && isSslRequest(request.payload)) {
        await ctx.upgradeTls({ pipelined: "keep" });
        conn.secure = true;
        return;
      }
      if (options.requireSecureTransport && !conn.secure) {
        yield errPacket(
          3159,
          "HY000",
          "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
        );
        ctx.close();
        return;
      }
      let response;
      try {
        response = parseHandshakeResponse(request.payload);
      } catch (error) {
        yield errPacket(1043, "08S01", `Bad handshake: ${(error as Error).message}`);
        ctx.close();
        return;
      }
      conn.capabilities = response.capabilities & offered;
      let token = response.authResponse;
      if (response.authPlugin !== undefined && response.authPlugin !== "mysql_native_password") {
        yield authSwitchRequest(conn.scramble);
        token = (await ctx.next({ timeoutMs: 10_000 })).payload;
      }
      if (response.user !== user || !verifyNativePassword(password, conn.scramble, token)) {
        yield errPacket(
          1045,
          "28000",
          `Access denied for user '${response.user}'@'${ctx.remoteAddr.hostname}' (using password: ${
            token.length > 0 ? "YES" : "NO"
          })`,
        );
        ctx.close();
        return;
      }
      conn.session = new Session(ctx.connectionId, user);
      if (response.database !== undefined) {
        try {
          engine.use(conn.session, response.database);
        } catch (error) {
          yield errOf(error);
          ctx.close();
          return;
        }
      }
      ctx.enterPhase("ready");
      yield ok(conn);
    }, { phase: "auth" })
    .route(Command.QUERY, (request, ctx) => {
      try {
        const { statement, params } = parse(decoder.decode(request.payload.subarray(1)));
        if (params > 0) throw syntaxError("?");
        return respond(engine.execute(session(ctx), statement), ctx.state, ctx, false);
      } catch (error) {
        return errOf(error);
      }
    })
    .route(Command.INIT_DB, (request, ctx) => {
      try {
        engine.use(session(ctx), decoder.decode(request.payload.subarray(1)));
        return ok(ctx.state);
      } catch (error) {
        return errOf(error);
      }
    })
    .route(Command.PING, (_request, ctx) => ok(ctx.state))
    .route(Command.QUIT, (_request, ctx) => ctx.close())
    .route(Command.RESET_CONNECTION, (_request, ctx) => {
      ctx.state.session = new Session(ctx.connectionId, user);
      ctx.state.statements.clear();
      return ok(ctx.state);
    })
    .route(
      Command.SET_OPTION,
      (_request, ctx) =>
        (ctx.state.capabilities & Capability.DEPRECATE_EOF) !== 0
          ? ok(ctx.state)
          : eofPacket(session(ctx).status),
    )
    .route(Command.FIELD_LIST, (request, ctx) => {
      const table = new PacketReader(request.payload, 1).nulText();
      try {
        const columns = engine.fields(session(ctx), table);
        return [...columns.map(columnDefinition), endOfRows(ctx.state)];
      } catch (error) {
        return errOf(error);
      }
    })
    .route(Command.STMT_PREPARE, (request, ctx) => {
      const conn = ctx.state;
      try {
        const { statement, params } = parse(decoder.decode(request.payload.subarray(1)));
        // A query's columns, as its execution would send them: rows are made lazily, so
        // running it with NULL parameters costs nothing; DDL and SET have none (and run later).
        const columns = statement.kind === "select" || statement.kind.startsWith("show-")
          ? (engine.execute(session(ctx), statement, new Array(params).fill(null)) as {
            columns: readonly Column[];
          }).columns
          : [];
        const id = conn.nextStatementId++;
        conn.statements.set(id, { statement, params, types: [], longData: new Map() });
        const param: Column = { name: "?", type: ColumnType.VAR_STRING };
        const block = (defs: Uint8Array[]) => defs.length > 0 ? [...defs, ...columnsEnd(conn)] : [];
        return [
          prepareOk(id, columns.length, params),
          ...block(Array.from({ length: params }, () => columnDefinition(param))),
          ...block(columns.map(columnDefinition)),
        ];
      } catch (error) {
        return errOf(error);
      }
    })
    .route(Command.STMT_EXECUTE, (request, ctx) => {
      const conn = ctx.state;
      try {
        const r = new PacketReader(request.payload, 1);
        const id = r.uint(4);
        const prepared = conn.statements.get(id);
        if (prepared === undefined) {
          throw new SqlError(
            1243,
            "HY000",
            `Unknown prepared statement handler (${id}) given to mysqld_stmt_execute`,
          );
        }
        r.u8(); // flags (cursor type)
        r.uint(4); // iteration count
        const values = readParams(r, prepared);
        prepared.longData.clear();
        return respond(engine.execute(session(ctx), prepared.statement, values), conn, ctx, true);
      } catch (error) {
        return errOf(error);
      }
    })
    .route(Command.STMT_SEND_LONG_DATA, (request, ctx) => {
      const r = new PacketReader(request.payload, 1);
      const prepared = ctx.state.statements.get(r.uint(4));
      const param = r.uint(2);
      if (prepared === undefined) return;
      const chunks = prepared.longData.get(param) ?? [];
      chunks.push(r.rest().slice());
      prepared.longData.set(param, chunks);
    })
    .route(Command.STMT_CLOSE, (request, ctx) => {
      ctx.state.statements.delete(new PacketReader(request.payload, 1).uint(4));
    })
    .route(Command.STMT_RESET, (request, ctx) => {
      try {
        const prepared = ctx.state.statements.get(new PacketReader(request.payload, 1).uint(4));
        if (prepared === undefined) {
          throw new SqlError(
            1243,
            "HY000",
            "Unknown prepared statement handler given to mysqld_stmt_reset",
          );
        }
        prepared.longData.clear();
        return ok(ctx.state);
      } catch (error) {
        return errOf(error);
      }
    })
    .fallback((request) => errPacket(1047, "08S01", `Unknown command ${request.id}`));

  return {
    app,
    engine,
    async notifyShutdown() {
      const notice = errPacket(1053, "08S01", "Server shutdown in progress");
      const pushes: Promise<void>[] = [];
      for (const conn of live) {
        if (conn.busy) continue;
        pushes.push(conn.ctx.push.push({ id: 0, payload: notice }).catch(() => {}));
      }
      await Promise.all(pushes);
    },
  };
}

/** The parameters of COM_STMT_EXECUTE, in the binary protocol. */
function readParams(r: PacketReader, prepared: Prepared): SqlValue[] {
  const n = prepared.params;
  if (n === 0) return [];
  const nulls = r.bytes((n + 7) >> 3);
  if (r.u8() === 1) {
    prepared.types = [];
    for (let i = 0; i < n; i++) prepared.types.push(r.uint(2));
  }
  const values: SqlValue[] = [];
  for (let i = 0; i < n; i++) {
    const long = prepared.longData.get(i);
    if (long !== undefined) {
      values.push(decoder.decode(concat(long)));
      continue;
    }
    if ((nulls[i >> 3]! & (1 << (i & 7))) !== 0) {
      values.push(null);
      continue;
    }
    const typeWord = prepared.types[i] ?? ColumnType.VAR_STRING;
    const unsigned = (typeWord & 0x8000) !== 0;
    values.push(readBinaryValue(r, typeWord & 0xff, unsigned));
  }
  return values;
}

function readBinaryValue(r: PacketReader, type: number, unsigned: boolean): SqlValue {
  const signed = (value: number, bits: number) =>
    !unsigned && value >= 2 ** (bits - 1) ? value - 2 ** bits : value;
  switch (type) {
    case ColumnType.NULL:
      return null;
    case ColumnType.TINY:
      return signed(r.u8(), 8);
    case ColumnType.SHORT:
    case ColumnType.YEAR:
      return signed(r.uint(2), 16);
    case ColumnType.LONG:
    case ColumnType.INT24:
      return signed(r.uint(4), 32);
    case ColumnType.LONGLONG: {
      const value = r.i64();
      const n = unsigned ? BigInt.asUintN(64, value) : value;
      return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    }
    case ColumnType.FLOAT:
      return r.f32();
    case ColumnType.DOUBLE:
      return r.f64();
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP: {
      const length = r.u8();
      const p = (v: number, w = 2) => String(v).padStart(w, "0");
      if (length === 0) return "0000-00-00 00:00:00";
      const date = `${p(r.uint(2), 4)}-${p(r.u8())}-${p(r.u8())}`;
      if (length === 4) return type === ColumnType.DATE ? date : `${date} 00:00:00`;
      const time = `${p(r.u8())}:${p(r.u8())}:${p(r.u8())}`;
      const micros = length >= 11 ? `.${p(r.uint(4), 6)}` : "";
      return `${date} ${time}${micros}`;
    }
    case ColumnType.TIME: {
      const length = r.u8();
      if (length === 0) return "00:00:00";
      const negative = r.u8() === 1;
      const days = r.uint(4);
      const p = (v: number) => String(v).padStart(2, "0");
      const hours = days * 24 + r.u8();
      const rest = `${p(r.u8())}:${p(r.u8())}`;
      if (length >= 12) r.uint(4);
      return `${negative ? "-" : ""}${p(hours)}:${rest}`;
    }
    default:
      return decoder.decode(r.lenencBytes());
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
