/**
 * A minimal Redis client for the real-redis-server suite: RESP2 over TCP or TLS, commands
 * pipelined in order, a refusal returned as a {@link RedisError} value (never thrown), so
 * that an attack's answer can be asserted like any other. Pub/sub messages (arrays that
 * answer no command) are collected in {@link RedisConnection.messages}.
 */
import { Socket, connect as tcpConnect } from 'net';
import { ConnectionOptions, TLSSocket, connect as tlsConnect } from 'tls';

/** An error reply (`-NOPERM …`, `-NOAUTH …`). */
export class RedisError {
  public constructor(public readonly message: string) {}
  /** The error code: the reply's first word (NOPERM, NOAUTH, WRONGPASS, ERR …). */
  public get code(): string {
    return this.message.split(' ')[0];
  }
}

export type RedisReply = string | number | null | RedisError | RedisReply[];

/** Where to connect: a port on 127.0.0.1, and TLS options when the port speaks TLS. */
export interface RedisAddress {
  readonly port: number;
  readonly tls?: ConnectionOptions;
}

/** Encodes one command as a RESP array of bulk strings. */
function encode(args: readonly (string | number)[]): Buffer {
  const parts = args.map((a) => Buffer.from(String(a)));
  return Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.flatMap((p) => [Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n')])]);
}

/** One reply from `buf` at `at`: the reply and where the next starts, or undefined when incomplete. */
function parse(buf: Buffer, at: number): [RedisReply, number] | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return [line, next];
    case '-': return [new RedisError(line), next];
    case ':': return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return undefined;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: RedisReply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default: throw new Error(`unexpected RESP type "${type}"`);
  }
}

export interface RedisConnection {
  /** Sends one command; resolves with its reply (an error reply is a {@link RedisError}). */
  command(...args: (string | number)[]): Promise<RedisReply>;
  /** Sends many commands at once; resolves with their replies in order. */
  pipeline(commands: readonly (readonly (string | number)[])[]): Promise<RedisReply[]>;
  /** Pub/sub messages received so far (arrays answering no command). */
  readonly messages: RedisReply[][];
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  /** Serial number of the certificate the server presented (upper-case hex, as X509Certificate's); undefined without TLS. */
  readonly peerSerial?: string;
  close(): void;
}

/** Connects to `address`; rejects when the connection (or the TLS handshake) fails. */
export function connectRedis(address: RedisAddress): Promise<RedisConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = address.tls
      ? tlsConnect({ host: '127.0.0.1', port: address.port, servername: 'localhost', ...address.tls })
      : tcpConnect({ host: '127.0.0.1', port: address.port });
    const pending: Array<(reply: RedisReply) => void> = [];
    const messages: RedisReply[][] = [];
    let buffer = Buffer.alloc(0);
    // Where scanning stopped in `buffer`, and the elements still missing in each open array: a large reply arrives in many
    // chunks, and it is scanned once, then parsed once, instead of parsed again from its start at every chunk.
    let scanned = 0;
    const open: number[] = [];
    /** The end of the first complete reply in `buffer`, or undefined. */
    const complete = (): number | undefined => {
      for (;;) {
        const eol = buffer.indexOf('\r\n', scanned);
        if (eol < 0) return undefined;
        const type = buffer[scanned];
        const n = type === 0x24 || type === 0x2a ? Number(buffer.toString('latin1', scanned + 1, eol)) : 0;
        const end = type === 0x24 && n >= 0 ? eol + 2 + n + 2 : eol + 2;
        if (buffer.length < end) return undefined;
        scanned = end;
        if (type === 0x2a && n > 0) {
          open.push(n);
          continue;
        }
        while (open.length > 0 && --open[open.length - 1] === 0) open.pop();
        if (open.length === 0) return scanned;
      }
    };
    let closedResolve: () => void = () => undefined;
    const closed = new Promise<void>((r) => { closedResolve = r; });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end = complete(); end !== undefined; end = complete()) {
        const reply = parse(buffer, 0)![0];
        buffer = buffer.subarray(end);
        scanned = 0;
        const waiter = pending.shift();
        if (waiter) waiter(reply);
        else messages.push(reply as RedisReply[]);
      }
    });
    socket.on('close', () => {
      for (const waiter of pending.splice(0)) waiter(new RedisError('CLOSED connection closed by the server'));
      closedResolve();
    });
    const connection: RedisConnection = {
      command: (...args) => connection.pipeline([args]).then((r) => r[0]),
      pipeline: (commands) => {
        const replies = commands.map(() => new Promise<RedisReply>((r) => pending.push(r)));
        socket.write(Buffer.concat(commands.map(encode)));
        return Promise.all(replies);
      },
      messages,
      closed,
      close: () => socket.destroy(),
    };
    socket.once('error', reject);
    socket.once(address.tls ? 'secureConnect' : 'connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve(address.tls ? { ...connection, peerSerial: (socket as TLSSocket).getPeerCertificate().serialNumber } : connection);
    });
  });
}
