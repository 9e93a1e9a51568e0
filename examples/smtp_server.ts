/**
 * A toy SMTP-like server: the protocol of a real text protocol, on the
 * library's general capabilities, with nothing hand-rolled here.
 *
 * - text lines (`LineCodec`, CRLF), routed by verb (`routeKey`);
 * - the server speaks first (`greeting`: `220 ...`);
 * - phases: `HELO`/`EHLO` first, everything else after (`phases`, with a
 *   `503` for a command out of turn);
 * - `DATA` is a conversation: the handler reads the message's lines up to a
 *   lone `.` (`ctx.receive()`), then answers `250`;
 * - timeouts with a last word (`421`), and `500` for a line too long;
 * - `STARTTLS` (with `smtpApp(mailbox, { startTls: true })` and a server that
 *   listens with `startTls: { cert, key }`): `220`, then `ctx.upgradeTls()`,
 *   then the session starts over, EHLO first (RFC 3207).
 *
 * Messages are kept in memory (`mailbox`), nothing is delivered.
 *
 * Run: `deno run --allow-net examples/smtp_server.ts --port 2525` (add
 * `--allow-read --tls-cert FILE --tls-key FILE` for SMTPS, and `--starttls on`
 * with them for STARTTLS instead)
 *  or: `bun examples/smtp_server.ts --port 2525`, then talk to it with
 * `nc -C 127.0.0.1 2525` (or `openssl s_client` once TLS exists).
 *
 * @module
 */
import {
  ConnectionTimeoutError,
  type Envelope,
  type Serializer,
  WireframeApp,
  WireframeServer,
} from "@wireframe/wireframe";
import { FrameTooLargeError, LineCodec } from "@wireframe/wireframe/codec";
import { runExampleServer } from "./_cli.ts";
import { isMain } from "./_main.ts";

/** One line in, one line out: the envelope of a text protocol is the line itself. */
export const lineSerializer: Serializer = {
  decode: (line) => ({ id: 0, payload: line }),
  encode: (envelope: Envelope) => envelope.payload,
};

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const reply = (line: string) => encoder.encode(line);
const verbOf = (request: Envelope) =>
  decoder.decode(request.payload).split(" ", 1)[0]!.toUpperCase();

/** A message the server accepted. */
export interface Mail {
  readonly from: string;
  readonly to: readonly string[];
  readonly body: readonly string[];
}

interface Session {
  from: string | undefined;
  to: string[];
  /** The connection went through STARTTLS. */
  secure: boolean;
}

/** Options of {@link smtpApp}. */
export interface SmtpOptions {
  /**
   * Offer `STARTTLS` in the EHLO reply and serve it (the server must listen
   * with `startTls: { cert, key }`). Default false.
   */
  startTls?: boolean;
}

/** The app; `mailbox` receives every accepted message. */
export function smtpApp(mailbox: Mail[] = [], options: SmtpOptions = {}): WireframeApp<Session> {
  // "MAIL FROM:<a@b>" and "RCPT TO:<a@b>": the path after the colon.
  const argument = (request: Envelope) => {
    const line = decoder.decode(request.payload);
    return line.slice(line.indexOf(":") + 1).trim();
  };
  const hello = (request: Envelope, ctx: { enterPhase(name: string): void; state: Session }) => {
    ctx.enterPhase("ready");
    const greeting = `hello ${decoder.decode(request.payload).slice(5).trim()}`;
    // EHLO lists the extensions: STARTTLS until the session is secure.
    if (options.startTls && !ctx.state.secure && verbOf(request) === "EHLO") {
      return [reply(`250-${greeting}`), reply("250 STARTTLS")];
    }
    return reply(`250 ${greeting}`);
  };
  return new WireframeApp<Session>()
    .codec(new LineCodec({ maxFrameLength: 1000 })) // RFC 5321: 1000 octets with the CRLF
    .serializer(lineSerializer)
    .routeKey(verbOf)
    .phases({ initial: "greeting" })
    .timeouts({ handshakeMs: 300_000, idleMs: 300_000 }) // RFC 5321 §4.5.3.2: minutes
    .onConnectionSetup(() => ({ from: undefined, to: [], secure: false }))
    .withProtocol({
      greeting: () => reply("220 wireframe ESMTP ready"),
      phaseViolation: () => reply("503 5.5.1 say HELO first"),
      closingFrames: (error) =>
        error instanceof ConnectionTimeoutError
          ? reply("421 4.4.2 timeout, closing")
          : error instanceof FrameTooLargeError
          ? reply("500 5.5.6 line too long")
          : undefined,
    })
    .route("HELO", hello, { phase: "greeting" })
    .route("EHLO", hello, { phase: "greeting" })
    .route("MAIL", (request, ctx) => {
      ctx.state.from = argument(request);
      ctx.state.to = [];
      return reply("250 2.1.0 ok");
    })
    .route("RCPT", (request, ctx) => {
      if (ctx.state.from === undefined) return reply("503 5.5.1 MAIL first");
      ctx.state.to.push(argument(request));
      return reply("250 2.1.5 ok");
    })
    .route("DATA", async function* (_request, ctx) {
      const { from, to } = ctx.state;
      if (from === undefined || to.length === 0) {
        yield reply("503 5.5.1 RCPT first");
        return;
      }
      yield reply("354 end data with <CR><LF>.<CR><LF>");
      const body: string[] = [];
      for await (const line of ctx.receive()) {
        const text = decoder.decode(line.payload);
        if (text === ".") break;
        body.push(text.startsWith("..") ? text.slice(1) : text); // dot-stuffing
      }
      mailbox.push({ from, to, body });
      ctx.state.from = undefined;
      ctx.state.to = [];
      yield reply(`250 2.0.0 queued as ${mailbox.length}`);
    })
    .route("STARTTLS", async function* (_request, ctx) {
      if (!options.startTls || ctx.state.secure) {
        yield reply(ctx.state.secure ? "503 5.5.1 TLS already active" : "502 5.5.1 no STARTTLS");
        return;
      }
      yield reply("220 2.0.0 ready to start TLS"); // in plain text, before the handshake
      await ctx.upgradeTls();
      // RFC 3207 §4.2: forget what the client said before; it starts over with EHLO.
      ctx.state.from = undefined;
      ctx.state.to = [];
      ctx.state.secure = true;
      ctx.enterPhase("greeting");
    })
    .route("NOOP", () => reply("250 2.0.0 ok"))
    .route("QUIT", (_request, ctx) => {
      ctx.close(); // RFC 5321 §4.1.1.10: the server closes the channel after its reply
      return reply("221 2.0.0 bye");
    }, { phase: ["greeting", "ready"] })
    .fallback(() => reply("500 5.5.2 command not recognized"));
}

if (isMain(import.meta)) {
  // --starttls on --tls-cert FILE --tls-key FILE: plain SMTP that offers STARTTLS;
  // --tls-cert/--tls-key alone: TLS from the first byte (SMTPS).
  await runExampleServer(
    2525,
    ({ starttls }) => new WireframeServer(smtpApp([], { startTls: starttls === "on" })),
    { starttls: "off" },
  );
}
