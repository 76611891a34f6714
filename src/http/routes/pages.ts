import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import { ParamsInvalidError, PortholeError, type ParamProblem } from '../../core/errors.js';
import type { RunResult } from '../../core/result.js';
import type { RunRecord } from '../../store/history.js';
import type { App } from '../app.js';
import { sendNotFound } from '../errors.js';
import { CONTENT_TYPES } from '../negotiate.js';
import { paramsFromBody, paramsFromUrl, type RawParams } from '../params-input.js';
import { dashboardHtml, cardBody, type CardState } from '../renderers/dashboard.js';
import { confirmForm, paramForm } from '../renderers/form.js';
import { historyTable, outcomeBadge, runFacts } from '../renderers/history-view.js';
import { escapeHtml, outputHtml, page, timeAgo } from '../renderers/html.js';
import { resultSection } from '../renderers/result-view.js';
import { statusOf } from '../respond.js';
import { startRun } from '../run-request.js';
import { isRunId, unfinishedRun } from './api.js';
import { decide } from '../../access/decide.js';
import { ensureMayRun, visibleAction, visibleActions } from '../access-check.js';

/** How long the dashboard waits for its cards before showing "running" and letting the script finish. */
const DASHBOARD_WAIT_MS = 2000;

type ActionRequest = FastifyRequest<{ Params: { id: string } }>;

const hasCharts = (action: Action) => action.kind === 'query' && action.chart !== undefined;

/** A safe action's current result for a card: run (or take from the cache), waiting at most `waitMs`. */
async function cardState(app: App, request: FastifyRequest, action: Action, waitMs: number): Promise<CardState> {
  if (!action.safe) {
    const [record] = await app.store.history.list(action.id, { limit: 1 });
    return { kind: 'last-run', record };
  }
  try {
    const { run } = startRun(app, request, action, {});
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), waitMs)));
    const result = await Promise.race([run.result, late]).finally(() => clearTimeout(timer));
    return result ? { kind: 'result', result, finishedAt: (run.finishedAt ?? new Date()).toISOString() } : { kind: 'pending' };
  } catch (error) {
    // A card whose action needs parameters links to its page; one that cannot run now says so
    // and is fetched again by the script, rather than failing the whole dashboard.
    if (error instanceof ParamsInvalidError) return { kind: 'last-run', record: undefined };
    if (error instanceof PortholeError && (error.code === 'BUSY' || error.code === 'SHUTTING_DOWN')) return { kind: 'pending' };
    throw error;
  }
}

function actionHeader(action: Action): string {
  const description = action.description ? `<p class="description">${escapeHtml(action.description)}</p>` : '';
  const kind = action.safe ? 'Read-only' : 'Changes things on the server';
  return `<h1>${escapeHtml(action.title)}</h1>\n${description}\n<p class="meta">${kind} · <a href="/actions/${escapeHtml(action.id)}/history">History</a></p>`;
}

/** What every page of one request shares: where it goes, who is signed in, the CSRF token. */
interface PageContext {
  reply: FastifyReply;
  user?: string;
  csrf?: string;
}

function contextOf(request: FastifyRequest, reply: FastifyReply): PageContext {
  if (!request.generation.auth || request.principal.kind !== 'user') return { reply };
  return { reply, user: request.principal.user, csrf: reply.generateCsrf() };
}

function sendPage(ctx: PageContext, status: number, title: string, body: string, charts = false, trail: { href: string; label: string }[] = []): FastifyReply {
  return ctx.reply.code(status).type(CONTENT_TYPES.html).send(page(title, body, { charts, trail, user: ctx.user, csrf: ctx.csrf }));
}

interface ActionView {
  values: RawParams;
  problems: readonly ParamProblem[];
  result?: { result: RunResult; runId: string; ageMs?: number };
  status?: number;
  lastRun?: RunRecord;
}

/** Renders the action page: header, form (with any problems), and the result when there is one. */
function actionPage(request: FastifyRequest, ctx: PageContext, action: Action, view: ActionView): FastifyReply {
  const { values, problems, result, lastRun } = view;
  // A safe action's download runs it again (or takes the cache), whole; history keeps only the start of big results.
  const query = new URLSearchParams(Object.entries(values).flatMap(([k, v]): [string, string][] => (typeof v === 'string' ? [[k, v]] : []))).toString();
  const download = result && ((format: 'csv' | 'json') =>
    action.safe ? `/api/actions/${action.id}/result.${format}${query ? `?${query}` : ''}` : `/api/actions/${action.id}/runs/${result.runId}/result.${format}`);
  const last = lastRun
    ? `<p class="meta last-run">Last run ${timeAgo(lastRun.queuedAt)}: <a href="/actions/${escapeHtml(action.id)}/runs/${escapeHtml(lastRun.id)}">${outcomeBadge(lastRun)}</a></p>`
    : '';
  // Safe actions run on viewing; others need the right to run, or the form would only lead to a refusal.
  const mayRun = action.safe || decide(request.generation.config.auth, request.principal, action, 'run').allowed;
  const form = !mayRun
    ? '<p class="meta">You may look at this action and its history, but not run it.</p>'
    : action.params.length > 0 || !action.safe ? paramForm(action, { values, problems }, ctx.csrf) : '';
  const body = [
    actionHeader(action),
    form,
    result ? resultSection(action, result.result, { ageMs: result.ageMs, download }) : `${last}<section id="result" class="result" aria-live="polite" hidden></section>`,
  ].join('\n');
  return sendPage(ctx, view.status ?? 200, action.title, body, hasCharts(action));
}

/** Runs an action for a page and renders the outcome; invalid parameters come back next to their fields. */
async function runForPage(app: App, request: FastifyRequest, reply: FastifyReply, action: Action, raw: RawParams): Promise<FastifyReply> {
  const ctx = contextOf(request, reply);
  try {
    const { run, cachedAgeMs } = startRun(app, request, action, raw);
    const result = await run.result;
    return actionPage(request, ctx, action, { values: raw, problems: [], result: { result, runId: run.id, ageMs: cachedAgeMs }, status: statusOf(result) });
  } catch (error) {
    if (error instanceof ParamsInvalidError) return actionPage(request, ctx, action, { values: raw, problems: error.problems, status: 400 });
    throw error;
  }
}

/** The server-rendered pages: dashboard, action pages with their forms, history, single runs. */
export const pageRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/', async (request, reply) => {
    const actions = visibleActions(request);
    const states = new Map(await Promise.all(actions.map(async (a) => [a.id, await cardState(app, request, a, DASHBOARD_WAIT_MS)] as const)));
    return sendPage(contextOf(request, reply), 200, 'Dashboard', dashboardHtml(actions, states), actions.some(hasCharts));
  });

  fastify.get('/actions/:id/card', async (request: ActionRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action) return sendNotFound(request, reply);
    const state = await cardState(app, request, action, action.timeoutMs);
    return reply.type(CONTENT_TYPES.html).header('cache-control', 'no-store').send(cardBody(action, state));
  });

  fastify.get('/actions/:id', async (request: ActionRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action) return sendNotFound(request, reply);
    const raw = paramsFromUrl(request.url, request.generation.config.server.maxParams);
    // Viewing a safe action runs it, unless it still needs parameters the person has not given.
    const missing = action.params.some((p) => p.required && p.default === undefined && !(p.name in raw));
    if (!action.safe || (missing && Object.keys(raw).length === 0)) {
      const [lastRun] = await app.store.history.list(action.id, { limit: 1 });
      return actionPage(request, contextOf(request, reply), action, { values: raw, problems: [], lastRun });
    }
    return runForPage(app, request, reply, action, raw);
  });

  fastify.post('/actions/:id', async (request: ActionRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action) return sendNotFound(request, reply);
    const fields = paramsFromBody(request, request.generation.config.server.maxParams);
    if (!ensureMayRun(app, request, reply, action)) return reply;
    const confirmed = (request.body as Record<string, unknown> | undefined)?._confirm === 'yes';
    if (action.confirm && !confirmed) {
      const ctx = contextOf(request, reply);
      return sendPage(ctx, 200, `Confirm: ${action.title}`, `${actionHeader(action)}\n${confirmForm(action, fields, ctx.csrf)}`);
    }
    return runForPage(app, request, reply, action, fields);
  });

  fastify.get('/actions/:id/history', async (request: ActionRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action) return sendNotFound(request, reply);
    const records = await app.store.history.list(action.id, { limit: 100 });
    const body = `<h1>History: ${escapeHtml(action.title)}</h1>\n${historyTable(action, records)}`;
    return sendPage(contextOf(request, reply), 200, `History: ${action.title}`, body, false, [{ href: `/actions/${action.id}`, label: action.title }]);
  });

  fastify.get('/actions/:id/runs/:run', async (request: FastifyRequest<{ Params: { id: string; run: string } }>, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action || !isRunId(request.params.run)) return sendNotFound(request, reply);
    const trail = [{ href: `/actions/${action.id}`, label: action.title }, { href: `/actions/${action.id}/history`, label: 'History' }];
    const active = unfinishedRun(app, action, request.params.run);
    if (active) {
      // Still running: the script follows it live; without script, reloading shows progress.
      const live = `<section id="result" class="result" aria-live="polite" data-live-run="${escapeHtml(active.id)}" data-action="${escapeHtml(action.id)}">\n<h2>Output</h2>\n${outputHtml('', '', { stdout: false, stderr: false })}\n<p class="meta" id="run-status">${escapeHtml(active.status)}…</p>\n</section>`;
      return sendPage(contextOf(request, reply), 200, `Run of ${action.title}`, `<h1>Run of ${escapeHtml(action.title)}</h1>\n${runFacts({ queuedAt: active.queuedAt.toISOString(), clientIp: active.context.clientIp, source: active.context.source, params: {}, user: active.context.user })}\n${live}`, false, trail);
    }
    const record = await app.store.history.get(request.params.run);
    if (!record || record.actionId !== action.id) return sendNotFound(request, reply);
    const result = record.result
      ? resultSection(action, record.result, { download: (format) => `/api/actions/${action.id}/runs/${record.id}/result.${format}` })
      : `<p class="meta">This run ${record.status === 'interrupted' ? 'was interrupted when the server stopped' : 'has no stored result'}.</p>`;
    const cut = record.storedTruncated ? '<p class="truncated" role="note">History keeps only the start of this run\'s output.</p>' : '';
    return sendPage(contextOf(request, reply), 200, `Run of ${action.title}`, `<h1>Run of ${escapeHtml(action.title)}</h1>\n${runFacts(record)}\n${result}\n${cut}`, hasCharts(action), trail);
  });
};
