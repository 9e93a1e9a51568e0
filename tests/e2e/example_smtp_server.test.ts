/**
 * examples/smtp_server.ts over TCP: greeting, phases, string routing, a DATA
 * conversation split across writes, the answers to a command out of turn
 * and to a line too long.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type Mail, smtpApp } from "../../examples/smtp_server.ts";
import { captureLogger, RawClient, serve } from "./_helpers.ts";

const crlf = (...lines: string[]) =>
  new TextEncoder().encode(lines.map((l) => `${l}\r\n`).join(""));

/** Read one CRLF-ended line (the server's replies are short). */
async function readLine(raw: RawClient): Promise<string> {
  const bytes: number[] = [];
  while (bytes.at(-1) !== 10) bytes.push((await raw.readBytes(1, "a reply line"))[0]!);
  return new TextDecoder().decode(Uint8Array.from(bytes)).replace(/\r\n$/, "");
}

function quietSmtp(mailbox: Mail[] = []) {
  return smtpApp(mailbox).logger(captureLogger().logger);
}

test("a whole SMTP session: greeting, HELO, MAIL, RCPT, DATA with dot-stuffing, QUIT", async () => {
  const mailbox: Mail[] = [];
  await using running = await serve(quietSmtp(mailbox));
  await using raw = await RawClient.connect(running.port);
  assert.equal(await readLine(raw), "220 wireframe ESMTP ready", "the server speaks first");
  await raw.write(crlf("EHLO client.example"));
  assert.equal(await readLine(raw), "250 hello client.example");
  await raw.write(crlf("MAIL FROM:<a@example.org>", "RCPT TO:<b@example.org>", "DATA"));
  assert.equal(await readLine(raw), "250 2.1.0 ok");
  assert.equal(await readLine(raw), "250 2.1.5 ok");
  assert.equal(await readLine(raw), "354 end data with <CR><LF>.<CR><LF>");
  const body = new TextEncoder().encode(
    "Subject: hi\r\n\r\nline one\r\n..leading dot\r\n.\r\nNOOP\r\n",
  );
  for (let i = 0; i < body.length; i += 7) await raw.write(body.subarray(i, i + 7)); // split anywhere
  assert.equal(await readLine(raw), "250 2.0.0 queued as 1");
  assert.equal(await readLine(raw), "250 2.0.0 ok", "the line after '.' is a command again");
  await raw.write(crlf("QUIT"));
  assert.equal(await readLine(raw), "221 2.0.0 bye");
  assert.equal((await raw.readEnd()).how, "eof", "then the server closes the channel");
  assert.deepEqual(mailbox, [{
    from: "<a@example.org>",
    to: ["<b@example.org>"],
    body: ["Subject: hi", "", "line one", ".leading dot"],
  }]);
});

test("a command before HELO gets 503 and the connection closes; an unknown one after gets 500", async () => {
  await using running = await serve(quietSmtp());
  await using early = await RawClient.connect(running.port);
  await readLine(early);
  await early.write(crlf("MAIL FROM:<a@example.org>"));
  assert.equal(await readLine(early), "503 5.5.1 say HELO first");
  assert.equal((await early.readEnd()).how, "eof");

  await using raw = await RawClient.connect(running.port);
  await readLine(raw);
  await raw.write(crlf("HELO me", "FLY away"));
  assert.equal(await readLine(raw), "250 hello me");
  assert.equal(await readLine(raw), "500 5.5.2 command not recognized");
});

test("a line too long gets 500 and closes only its connection", async () => {
  await using running = await serve(quietSmtp());
  await using bystander = await RawClient.connect(running.port);
  await readLine(bystander);
  await using raw = await RawClient.connect(running.port);
  await readLine(raw);
  await raw.write(new TextEncoder().encode("HELO " + "x".repeat(2000)));
  assert.equal(await readLine(raw), "500 5.5.6 line too long");
  assert.equal((await raw.readEnd()).how, "eof");
  await bystander.write(crlf("HELO still-here"));
  assert.equal(await readLine(bystander), "250 hello still-here");
});

test("curl, an SMTP client nobody here wrote, delivers a message", async () => {
  const { execFile } = await import("node:child_process");
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const mailbox: Mail[] = [];
  await using running = await serve(quietSmtp(mailbox));
  const file = join(mkdtempSync(join(tmpdir(), "smtp-")), "mail.txt");
  writeFileSync(file, "Subject: from curl\r\n\r\nhello\r\n.starts with a dot\r\n");
  const args = [
    "--silent",
    "--show-error",
    "--max-time",
    "20",
    `smtp://127.0.0.1:${running.port}`,
    "--mail-from",
    "a@example.org",
    "--mail-rcpt",
    "b@example.org",
    "--upload-file",
    file,
  ];
  await new Promise<void>((resolve, reject) =>
    execFile(
      "curl",
      args,
      (error, _stdout, stderr) => error ? reject(new Error(stderr || String(error))) : resolve(),
    )
  );
  assert.deepEqual(mailbox, [{
    from: "<a@example.org>",
    to: ["<b@example.org>"],
    body: ["Subject: from curl", "", "hello", ".starts with a dot"],
  }]);
});
