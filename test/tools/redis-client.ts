/**
 * A minimal Redis client for the real-redis-server suite: RESP2 over TCP or TLS, commands
 * pipelined in order, a refusal returned as a {@link RedisError} value (never thrown), so
 * that an attack's answer can be asserted like any other. Pub/sub messages (arrays that
 * answer no command) are collected in {@link RedisConnection.messages}.
 */
import { Socket, connect as tcpConnect } from 'net';
import { ConnectionOptions, connect as tlsConnect } from 'tls';

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
    let closedResolve: () => void = () => undefined;
    const closed = new Promise<void>((r) => { closedResolve = r; });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let at = 0;
      for (let reply = parse(buffer, at); reply; reply = parse(buffer, at)) {
        at = reply[1];
        const waiter = pending.shift();
        if (waiter) waiter(reply[0]);
        else messages.push(reply[0] as RedisReply[]);
      }
      buffer = buffer.subarray(at);
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
      resolve(connection);
    });
  });
}
