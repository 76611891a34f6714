import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForNoProcess, waitForProcess } from '../helpers/processes.js';
import { request, startServer, type TestServer } from '../helpers/server.js';

/** Every server a test starts is closed after it, whatever happened. */
const open: TestServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function serve(yaml: string): Promise<TestServer> {
  const server = await startServer(yaml);
  open.push(server);
  return server;
}

const YAML = `
defaults: { killGrace: 300ms }
server: { heartbeat: 200ms, shutdownGrace: 1s }
actions:
  drip:
    shell: for i in 1 2 3 4 5; do echo "line $i"; sleep 0.3; done
  delayed:
    shell: sleep 1; for i in 1 2 3; do echo "line $i"; sleep 0.2; done
  quiet:
    command: [sleep, "1"]
  long:
    command: [sleep, "{{seconds}}"]
    params: { seconds: { type: string, pattern: "^[0-9.]+$" } }
`;

interface SseEvent {
  event: string;
  data: string;
  /** ms since the stream was opened */
  at: number;
}

interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: SseEvent[];
  /** Comment lines (`: heartbeat`), with their arrival times. */
  comments: { text: string; at: number }[];
  /** Everything received, as sent. */
  raw: string;
  /** Resolves when the server ends the stream (or the client aborts it). */
  ended: Promise<void>;
  /** Resolves with the first event of this type. */
  next(type: string): Promise<SseEvent>;
  abort(): void;
}

/** Opens an event stream over a real socket and parses frames as they arrive. */
function openStream(port: number, path: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const req = http.get({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      const waiting: { type: string; resolve: (e: SseEvent) => void }[] = [];
      let buffer = '';
      let endStream!: () => void;
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        raw: '',
        ended: new Promise<void>((done) => (endStream = done)),
        next(type) {
          const found = stream.events.find((e) => e.event === type);
          return found ? Promise.resolve(found) : new Promise((done) => waiting.push({ type, resolve: done }));
        },
        abort() {
          req.destroy();
          endStream();
        },
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = Date.now() - opened;
        stream.raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push({ text: line, at });
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const parsed = { event, data: data.join('\n'), at };
          stream.events.push(parsed);
          for (const w of waiting.filter((x) => x.type === event)) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve(parsed);
          }
        }
      });
      res.on('end', () => endStream());
      res.on('close', () => endStream());
      res.on('error', () => endStream());
      resolve(stream);
    });
    req.on('error', reject);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function startRun(s: TestServer, action: string, params: Record<string, unknown> = {}): Promise<{ id: string; events: string }> {
  const res = await request(s.port, `/api/actions/${action}/runs?wait=false`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ params }),
  });
  expect(res.status).toBe(202);
  const body = JSON.parse(res.body) as { id: string; links: { events: string } };
  return { id: body.id, events: body.links.events };
}

function outputText(events: SseEvent[]): string {
  return events
    .filter((e) => e.event === 'output')
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join('');
}

function finishedOf(events: SseEvent[]): { outcome: string; exitCode?: number | null; runId: string } {
  const finished = events.filter((e) => e.event === 'finished');
  expect(finished).toHaveLength(1);
  return JSON.parse(finished[0]!.data) as { outcome: string; exitCode?: number | null; runId: string };
}

/** The event sequence with chunk boundaries erased: consecutive output of one stream merged. */
function normalise(events: SseEvent[]): { event: string; data: string }[] {
  const out: { event: string; data: string }[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.event === 'output' && last?.event === 'output') {
      const a = JSON.parse(last.data) as { stream: string; text: string };
      const b = JSON.parse(e.data) as { stream: string; text: string };
      if (a.stream === b.stream) {
        last.data = JSON.stringify({ stream: a.stream, text: a.text + b.text });
        continue;
      }
    }
    out.push({ event: e.event, data: e.data });
  }
  return out;
}

describe('run events (Server-Sent Events)', () => {
  it('streams output line by line as it is printed, then a finished event, then ends', async () => {
    const s = await serve(YAML);
    const run = await startRun(s, 'drip');
    const stream = await openStream(s.port, run.events);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toMatch(/no-cache/);
    // Written past Fastify, the stream still carries the headers every answer has.
    expect(stream.headers['content-security-policy']).toContain("default-src 'none'");
    expect(stream.headers['x-frame-options']).toBe('DENY');
    await withTimeout(stream.ended, 15_000, 'end of stream');

    const types = stream.events.map((e) => e.event);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('finished');
    expect(types.slice(1, -1).every((t) => t === 'output')).toBe(true);
    expect(outputText(stream.events)).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');

    // Line by line, not all at the end: five lines 300 ms apart span about 1.2 s.
    const outputs = stream.events.filter((e) => e.event === 'output');
    expect(outputs.length).toBeGreaterThanOrEqual(3);
    expect(outputs.at(-1)!.at - outputs[0]!.at).toBeGreaterThanOrEqual(800);
    const finished = finishedOf(stream.events);
    expect(finished).toMatchObject({ outcome: 'succeeded', exitCode: 0, runId: run.id });
    // The finished event does not repeat the output already streamed.
    expect(stream.events.at(-1)!.data).not.toContain('line 1');
  });

  it('replays a finished run from history to a late viewer: started, output, finished', async () => {
    const s = await serve(YAML);
    const res = await request(s.port, '/api/actions/drip/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: '{"params": {}}',
    });
    expect(res.status).toBe(200);
    const runId = res.headers['x-porthole-run'] as string;
    const stream = await openStream(s.port, `/api/actions/drip/runs/${runId}/events`);
    await withTimeout(stream.ended, 5000, 'end of replay');
    expect(stream.status).toBe(200);
    expect(normalise(stream.events).map((e) => e.event)).toEqual(['started', 'output', 'finished']);
    expect(outputText(stream.events)).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(finishedOf(stream.events)).toMatchObject({ outcome: 'succeeded', runId });
  });

  it('sends heartbeat comments while a run is silent', async () => {
    const s = await serve(YAML);
    const run = await startRun(s, 'quiet');
    const stream = await openStream(s.port, run.events);
    await withTimeout(stream.ended, 10_000, 'end of stream');
    const heartbeats = stream.comments.filter((c) => c.text === ': heartbeat');
    // 1 s of silence at a 200 ms heartbeat: about 5; a loaded machine may lose some.
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(stream.raw).toContain(': heartbeat\n\n');
    expect(finishedOf(stream.events).outcome).toBe('succeeded');
  });

  it('tells a watching viewer when the run is cancelled, and the process group is gone', async () => {
    const s = await serve(YAML);
    const run = await startRun(s, 'long', { seconds: '48.27' });
    const stream = await openStream(s.port, run.events);
    await withTimeout(stream.next('started'), 5000, 'started event');
    expect(await waitForProcess('sleep 48.27', 5000)).not.toEqual([]);

    const del = await request(s.port, `/api/actions/long/runs/${run.id}`, { method: 'DELETE', headers: { accept: 'application/json' } });
    expect(del.status).toBe(202);
    await withTimeout(stream.ended, 10_000, 'end of stream after cancel');
    const finished = finishedOf(stream.events);
    expect(finished.outcome).toBe('cancelled');
    expect(await waitForNoProcess('sleep 48.27')).toEqual([]);
  });

  it('goes on with the run when a viewer disconnects', async () => {
    const s = await serve(YAML);
    const run = await startRun(s, 'drip');
    const stream = await openStream(s.port, run.events);
    await withTimeout(stream.next('output'), 5000, 'first output');
    stream.abort();

    const deadline = Date.now() + 15_000;
    let record: { status: string; outcome?: string; result?: { stdout: string } } | undefined;
    while (Date.now() < deadline) {
      const res = await request(s.port, `/api/actions/drip/runs/${run.id}`, { headers: { accept: 'application/json' } });
      record = JSON.parse(res.body) as typeof record;
      if (record?.status === 'finished') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(record?.status).toBe('finished');
    expect(record?.outcome).toBe('succeeded');
    expect(record?.result?.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
  });

  it('gives 20 concurrent viewers of one run the same events', async () => {
    const s = await serve(YAML);
    const run = await startRun(s, 'delayed');
    const streams = await Promise.all(Array.from({ length: 20 }, () => openStream(s.port, run.events)));
    await withTimeout(Promise.all(streams.map((x) => x.ended)), 15_000, 'end of 20 streams');
    const first = normalise(streams[0]!.events);
    expect(first.map((e) => e.event)).toEqual(['started', 'output', 'finished']);
    expect(outputText(streams[0]!.events)).toBe('line 1\nline 2\nline 3\n');
    for (const stream of streams) {
      expect(stream.status).toBe(200);
      expect(normalise(stream.events)).toEqual(first);
    }
    expect(finishedOf(streams[0]!.events).outcome).toBe('succeeded');
  });

  it('answers 404 for the events of an unknown run', async () => {
    const s = await serve(YAML);
    for (const url of [
      '/api/actions/drip/runs/00000000-0000-4000-8000-000000000000/events',
      '/api/actions/drip/runs/not-a-run/events',
      '/api/actions/nope/runs/00000000-0000-4000-8000-000000000000/events',
    ]) {
      const res = await request(s.port, url, { headers: { accept: 'text/event-stream' } });
      expect(res.status, url).toBe(404);
      expect(res.headers['content-type'], url).not.toMatch(/event-stream/);
    }
  });
});
