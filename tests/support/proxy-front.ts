import { createServer, connect, type Server, type Socket } from 'node:net';

// A TCP front that behaves like RDS Proxy where PgBouncer does not: it never forwards a
// CancelRequest (the protocol's out-of-band cancel), and it can refuse every login with one of
// RDS Proxy's documented error texts. Everything else is piped to the real server (or PgBouncer).
// It also counts the client connections open at once (how many a script holds to one database).

const CANCEL_REQUEST = 80877102;
const SSL_REQUEST = 80877103;

export interface ProxyFront {
  port: number;
  /** CancelRequests received (and dropped). */
  cancelsDropped: number;
  /** Logins refused with `refuseWith`. */
  refused: number;
  /** Client connections open now, and the most open at once: each counts from its accept to its client's FIN. */
  open: number;
  maxOpen: number;
  /** When set, every login gets a FATAL ErrorResponse with this text (no SQLSTATE is documented: 08P01 here). */
  refuseWith: string | undefined;
  close(): Promise<void>;
}

function errorResponse(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C08P01\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

export async function startProxyFront(upstream: { host: string; port: number }): Promise<ProxyFront> {
  const sockets = new Set<Socket>();
  const front: ProxyFront = {
    port: 0,
    cancelsDropped: 0,
    refused: 0,
    open: 0,
    maxOpen: 0,
    refuseWith: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    front.maxOpen = Math.max(front.maxOpen, ++front.open);
    // A client's FIN reaches this side before its server can close, so before its next connect.
    let counted = true;
    const uncount = () => {
      if (counted) front.open--;
      counted = false;
    };
    client.on('end', uncount);
    client.on('close', () => {
      uncount();
      sockets.delete(client);
    });
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 8) return;
      const length = buffered.readInt32BE(0);
      const code = buffered.readInt32BE(4);
      if (code === SSL_REQUEST) {
        buffered = buffered.subarray(8);
        client.write('N');
        return;
      }
      if (buffered.length < length) return;
      client.off('data', onData);
      if (code === CANCEL_REQUEST) {
        front.cancelsDropped++;
        client.destroy();
        return;
      }
      if (front.refuseWith) {
        front.refused++;
        client.end(errorResponse(front.refuseWith));
        return;
      }
      const server = connect(upstream, () => {
        server.write(buffered);
        client.pipe(server);
        server.pipe(client);
      });
      sockets.add(server);
      server.on('close', () => {
        sockets.delete(server);
        client.destroy();
      });
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  front.port = typeof address === 'object' && address ? address.port : 0;
  return front;
}
