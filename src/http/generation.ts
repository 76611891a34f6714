import type { FastifyReply } from 'fastify';
import { NetworkGate } from '../access/network-gate.js';
import type { Config } from '../config/load.js';
import type { RunScope } from '../core/executor.js';
import { Datasources } from '../datasources/create.js';
import type { Store } from '../store/open.js';
import { createAuthRuntime, type AuthRuntime } from './auth.js';
import { Leases } from './leases.js';
import { aliasTable, type AliasTable } from './routes/aliases.js';

/**
 * Everything built from one loaded config. A reload builds a new one and puts it in force
 * with one assignment, so a request never sees half of an old config and half of a new one.
 */
export interface Generation {
  readonly config: Config;
  readonly gate: NetworkGate;
  readonly datasources: Datasources;
  /** What runs started under this config use. */
  readonly scope: RunScope;
  /** Present when the config has an auth: section. */
  readonly auth: AuthRuntime | undefined;
  readonly aliases: AliasTable;
  /** Requests and runs still using it: once replaced, its datasources close when the last one ends. */
  readonly users: Leases;
}

/**
 * Builds a generation; nothing connects yet. `previous` lends what should outlive a reload
 * when its settings are unchanged (login throttling, single sign-ons under way).
 */
export function buildGeneration(config: Config, store: Store, previous?: Generation): Generation {
  const datasources = new Datasources(config.datasources, config.dir);
  return {
    config,
    gate: new NetworkGate(config.network),
    datasources,
    scope: { datasource: (name) => datasources.get(name), secrets: config.secrets },
    auth: createAuthRuntime(config, store, previous?.auth),
    aliases: aliasTable(config.actions),
    users: new Leases(),
  };
}

/** The generation in force, and the replaced ones still finishing their requests and runs. */
export class Generations {
  private readonly retiring = new Set<Promise<void>>();
  private closing = false;

  constructor(private inForce: Generation) {}

  get current(): Generation {
    return this.inForce;
  }

  /** The generation a new request is served under, held until its response is closed. */
  enter(reply: FastifyReply): Generation {
    const generation = this.inForce;
    reply.raw.once('close', generation.users.acquire());
    return generation;
  }

  /**
   * Puts `next` in force; the old datasources close once the requests and runs using them are
   * done. Once closing has begun it refuses, returning false: nothing would ever close `next`,
   * so it stays with its builder to close.
   */
  replace(next: Generation, onCloseError: (error: unknown) => void): boolean {
    if (this.closing) return false;
    const old = this.inForce;
    this.inForce = next;
    const closed = old.users
      .drained()
      .then(() => old.datasources.closeAll())
      .catch(onCloseError)
      .finally(() => this.retiring.delete(closed));
    this.retiring.add(closed);
    return true;
  }

  /** At shutdown, after every request and run has ended: closes all datasources, and refuses any later replacement. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.inForce.datasources.closeAll(), ...this.retiring]);
  }
}
