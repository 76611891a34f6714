import type { NetworkGate } from '../access/network-gate.js';
import type { Config } from '../config/load.js';
import type { Executor } from '../core/executor.js';
import type { Datasources } from '../datasources/create.js';
import type { Principal } from '../access/principal.js';
import type { AuthRuntime } from './auth.js';
import type { Store } from '../store/open.js';

/** What the routes need, built once by the server and handed to each route plugin. */
export interface App {
  config: Config;
  gate: NetworkGate;
  executor: Executor;
  datasources: Datasources;
  store: Store;
  /** Present when the config has an auth: section. */
  auth?: AuthRuntime;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Decided once by the network gate; later stages never re-derive it. */
    clientIp: string | undefined;
    /** Decided once by the identity stage, right after the gate. */
    principal: Principal;
  }
}
