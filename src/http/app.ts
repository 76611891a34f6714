import type { Executor } from '../core/executor.js';
import type { Principal } from '../access/principal.js';
import type { Generation, Generations } from './generation.js';
import type { ReloadStatus } from './reload.js';
import type { Store } from '../store/open.js';
import type { Metrics } from '../metrics/registry.js';

/** What the routes need, built once by the server and handed to each route plugin. */
export interface App {
  /** The config in force and what was built from it; requests take theirs from request.generation. */
  generations: Generations;
  /** One for the life of the process, so runs, their viewers and cancelling outlive a reload. */
  executor: Executor;
  store: Store;
  metrics: Metrics;
  /** The last reload's outcome, for /readyz; absent until the first reload. */
  reload?: ReloadStatus;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The config this request is served under, taken once as it arrives; a reload meanwhile does not change it. */
    generation: Generation;
    /** Decided once by the network gate; later stages never re-derive it. */
    clientIp: string | undefined;
    /** Decided once by the identity stage, right after the gate. */
    principal: Principal;
  }
}
