// One connection to redis-server speaking RESP2 over Deno's own TCP socket, for the local Upstash
// endpoint. Commands from every caller go out in order on the one socket (writes issued while one is
// in flight are coalesced into the next) and replies come back in the same order. It replaced ioredis,
// whose Node-compatibility socket made the endpoint about 20x slower than a bare Deno.serve (README,
// Benchmarks). A lost connection fails every command in flight with a ConnectionError; the next
// command connects again, so an outage answers fast and ends when Redis is back.
import { Buffer } from "node:buffer";

/** An error reply from Redis (`-ERR ...`): the command ran and was refused. */
export class ReplyError extends Error {
  override name = "ReplyError";
}

/** The socket failed or closed: whether the command ran is unknown. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** Bulk and simple strings are Buffers (raw bytes), integers numbers, nil null; errors nested in an
 * array (EXEC's per-command failures) are ReplyError values. */
export type Reply = null | number | Buffer | ReplyError | Reply[];

type Waiter = { resolve: (reply: Reply) => void; reject: (error: Error) => void };

const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();
const READ_CHUNK_BYTES = 64 * 1024;

export function encodeCommand(args: string[]): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = encoder.encode(arg);
    parts.push(encoder.encode(`$${bytes.byteLength}\r\n`), bytes, CRLF);
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** One reply starting at `at`, or null when `data` does not hold all of it yet. */
export function parseReply(data: Uint8Array, at: number): { reply: Reply; next: number } | null {
  if (at >= data.byteLength) return null;
  const lineEnd = data.indexOf(13, at);
  if (lineEnd === -1 || lineEnd + 1 >= data.byteLength) return null;
  const line = Buffer.from(data.buffer, data.byteOffset + at + 1, lineEnd - at - 1).toString("utf8");
  const afterLine = lineEnd + 2;
  switch (data[at]) {
    case 43: // '+' simple string
      return { reply: Buffer.from(line, "utf8"), next: afterLine };
    case 45: // '-' error
      return { reply: new ReplyError(line), next: afterLine };
    case 58: // ':' integer
      return { reply: Number(line), next: afterLine };
    case 36: { // '$' bulk string
      const length = Number(line);
      if (length < 0) return { reply: null, next: afterLine };
      if (afterLine + length + 2 > data.byteLength) return null;
      return { reply: Buffer.from(data.slice(afterLine, afterLine + length)), next: afterLine + length + 2 };
    }
    case 42: { // '*' array
      const count = Number(line);
      if (count < 0) return { reply: null, next: afterLine };
      const items: Reply[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(data, next);
        if (!item) return null;
        items.push(item.reply);
        next = item.next;
      }
      return { reply: items, next };
    }
    default:
      throw new ConnectionError(`unexpected RESP type byte ${data[at]}`);
  }
}

export class RespConnection {
  #conn: Deno.TcpConn | null = null;
  #connecting: Promise<Deno.TcpConn> | null = null;
  #waiters: Waiter[] = [];
  #outgoing: Uint8Array[] = [];
  #writing = false;
  #closed = false;

  constructor(readonly hostname: string, readonly port: number) {}

  static fromUrl(url: string): RespConnection {
    const u = new URL(url);
    return new RespConnection(u.hostname, Number(u.port || 6379));
  }

  /** Sends the commands back to back and resolves with their replies, in order. An error reply is a
   * ReplyError value in the list; a connection failure rejects with ConnectionError. */
  async send(commands: string[][]): Promise<Reply[]> {
    if (this.#closed) throw new ConnectionError("connection closed");
    let conn: Deno.TcpConn;
    try {
      conn = this.#conn ?? await (this.#connecting ??= this.#connect());
    } catch (error) {
      throw new ConnectionError(error instanceof Error ? error.message : String(error));
    }
    const replies = commands.map(() =>
      new Promise<Reply>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    );
    this.#outgoing.push(concat(commands.map(encodeCommand)));
    if (!this.#writing) void this.#flush(conn);
    return await Promise.all(replies);
  }

  close(): void {
    this.#closed = true;
    this.#fail(new ConnectionError("connection closed"));
  }

  async #connect(): Promise<Deno.TcpConn> {
    try {
      const conn = await Deno.connect({ hostname: this.hostname, port: this.port });
      conn.setNoDelay(true);
      this.#conn = conn;
      void this.#readLoop(conn);
      return conn;
    } finally {
      this.#connecting = null;
    }
  }

  // Everything queued while the previous write was in flight goes out as one write.
  async #flush(conn: Deno.TcpConn): Promise<void> {
    this.#writing = true;
    try {
      while (this.#outgoing.length > 0 && this.#conn === conn) {
        let chunk = concat(this.#outgoing.splice(0));
        while (chunk.byteLength > 0) chunk = chunk.subarray(await conn.write(chunk));
      }
    } catch (error) {
      if (this.#conn === conn) this.#fail(new ConnectionError(`write failed: ${String(error)}`));
    } finally {
      this.#writing = false;
    }
    // Commands queued for a new connection while this one was failing.
    if (this.#outgoing.length > 0 && this.#conn && this.#conn !== conn) void this.#flush(this.#conn);
  }

  async #readLoop(conn: Deno.TcpConn): Promise<void> {
    let pending: Uint8Array = new Uint8Array(0);
    const chunk = new Uint8Array(READ_CHUNK_BYTES);
    try {
      while (true) {
        const n = await conn.read(chunk);
        if (n === null) throw new ConnectionError("Redis closed the connection");
        pending = pending.byteLength === 0 ? chunk.slice(0, n) : concat([pending, chunk.subarray(0, n)]);
        let at = 0;
        for (let parsed = parseReply(pending, at); parsed; parsed = parseReply(pending, at)) {
          at = parsed.next;
          const waiter = this.#waiters.shift();
          if (!waiter) throw new ConnectionError("a reply nobody asked for");
          waiter.resolve(parsed.reply);
        }
        pending = at === pending.byteLength ? new Uint8Array(0) : pending.slice(at);
      }
    } catch (error) {
      if (this.#conn === conn) {
        this.#fail(error instanceof ConnectionError ? error : new ConnectionError(String(error)));
      }
    }
  }

  #fail(error: ConnectionError): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#outgoing = [];
    try {
      conn?.close();
    } catch {
      // already closed
    }
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
