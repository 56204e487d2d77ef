/**
 * The handshake a load child makes with `npm run bench` around its measured window: after its
 * warm-up it says `warmed` and waits for `go`, so the parent can take its CPU and work counts
 * at the window's edges (and start parallel load processes together); it says `measured` the
 * moment the window ends, before it spends any CPU on its report. Run alone (no IPC channel),
 * a child just runs.
 */
export type ChildMessage = { type: 'warmed' } | { type: 'measured' };
export type ParentMessage = { type: 'go' };

export async function measuredWindow<T>(run: () => Promise<T>): Promise<T> {
  const send = process.send?.bind(process);
  if (!send) return run();
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    send({ type: 'warmed' } satisfies ChildMessage);
  });
  const result = await run();
  send({ type: 'measured' } satisfies ChildMessage);
  return result;
}

/** Writes the child's report and lets it exit (an open IPC channel would keep it alive). */
export function report(result: unknown): void {
  process.stdout.write(JSON.stringify(result), () => {
    if (process.connected) process.disconnect();
  });
}
