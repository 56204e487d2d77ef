import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What every fake provider returns from `startFake()` (the test runner's contract). */
export interface RunningFake {
  url: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeResponse {
  status: number;
  body: unknown;
}

/** A node:http server on 127.0.0.1 and a free port, answering JSON from one async handler. */
export async function startJsonServer(
  handle: (request: FakeRequest) => Promise<FakeResponse>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      void handle(request)
        .catch((error: unknown) => ({ status: 500, body: { error: { message: String(error) } } }))
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Keeps a fake running from the command line, printing the variables that point services at it. */
export async function runFromCommandLine(start: () => Promise<RunningFake>): Promise<void> {
  const fake = await start();
  console.log(`listening at ${fake.url}`);
  for (const [name, value] of Object.entries(fake.env)) console.log(`${name}=${value}`);
  const stop = () => void fake.stop().then(() => process.exit(0));
  process.once('SIGINT', stop).once('SIGTERM', stop);
}
