import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { RunResult } from '../../core/result.js';
import type { RunEvent } from '../../core/run.js';
import type { App } from '../app.js';
import { sendNotFound } from '../errors.js';
import { isRunId } from './api.js';
import { visibleAction } from '../access-check.js';

/** A viewer that lets this much pile up unread is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** The finished event: the whole result for tables; for text, everything but the output already streamed. */
function finishedPayload(result: RunResult): unknown {
  if (result.kind === 'table') return result;
  const { stdout: _stdout, stderr: _stderr, ...rest } = result;
  return rest;
}

function frame(event: RunEvent): string {
  switch (event.type) {
    case 'started':
      return `event: started\ndata: ${JSON.stringify({ at: event.at })}\n\n`;
    case 'output':
      return `event: output\ndata: ${JSON.stringify({ stream: event.stream, text: event.text })}\n\n`;
    case 'finished':
      return `event: finished\ndata: ${JSON.stringify(finishedPayload(event.result))}\n\n`;
  }
}

/** Replays a finished run from history as the same events a live viewer would have seen. */
function storedEvents(result: RunResult): RunEvent[] {
  const events: RunEvent[] = [{ type: 'started', at: result.startedAt }];
  if (result.kind === 'text') {
    if (result.stdout) events.push({ type: 'output', stream: 'stdout', text: result.stdout });
    if (result.stderr) events.push({ type: 'output', stream: 'stderr', text: result.stderr });
  }
  events.push({ type: 'finished', result });
  return events;
}

export const streamRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/api/actions/:id/runs/:run/events', async (request: FastifyRequest<{ Params: { id: string; run: string } }>, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action || !isRunId(request.params.run)) return sendNotFound(request, reply);
    const active = app.executor.get(request.params.run);
    const live = active && active.action.id === action.id ? active : undefined;
    const record = live ? undefined : await app.store.history.get(request.params.run);
    if (!live && (!record || record.actionId !== action.id || !record.result)) return sendNotFound(request, reply);

    reply.hijack();
    const res = reply.raw;
    // Written past Fastify, so the headers every answer carries (security headers, HSTS) are passed on here.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();

    let closed = false;
    let unsubscribe = () => {};
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), request.generation.config.server.heartbeat);
    /** Ends the stream; `drop` cuts it off instead, with whatever is still unsent. */
    const close = (drop = false) => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      if (drop) res.destroy();
      else res.end();
    };
    const write = (text: string) => {
      if (closed) return;
      res.write(text);
      // Only the viewer is dropped: the run goes on, and its output is in history.
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        request.log.warn({ ip: request.clientIp, runId: request.params.run }, 'event stream viewer too slow; disconnected');
        close(true);
      }
    };
    request.raw.on('close', () => close());

    const deliver = (event: RunEvent) => {
      write(frame(event));
      if (event.type === 'finished') close();
    };
    if (live) unsubscribe = live.subscribe(deliver);
    else for (const event of storedEvents(record!.result!)) deliver(event);
  });
};
