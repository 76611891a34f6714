import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/load.js';
import { AddressList } from './address-list.js';
import { resolveClientIp } from './client-ip.js';

export interface GateDecision {
  /** The client's address as decided once for this request (undefined: could not be determined). */
  ip: string | undefined;
  allowed: boolean;
}

/** Distinct (peer, forwarding header) pairs remembered; a flood of made-up headers only empties it. */
const MAX_REMEMBERED = 4096;
/** Longer forwarding headers are decided afresh each time, so the memory stays small. */
const MAX_KEY_LENGTH = 256;

/** The first stage of every request: who is the client, and may they reach Porthole at all. */
export class NetworkGate {
  private readonly allow: AddressList;
  private readonly proxies: AddressList;
  /**
   * Decisions by peer and forwarding header. The answer depends on nothing else and the
   * lists never change (a reload builds a new gate), while parsing addresses on every
   * request was a noticeable part of a cached answer's cost.
   */
  private readonly remembered = new Map<string, GateDecision>();

  constructor(private readonly network: Config['network']) {
    this.allow = new AddressList(network.allow);
    this.proxies = new AddressList(network.trustedProxies);
  }

  decide(peer: string | undefined, headers: IncomingHttpHeaders): GateDecision {
    const forwarded = headers[this.network.proxyHeader];
    const key = `${peer ?? ''}\n${Array.isArray(forwarded) ? forwarded.join('\n') : (forwarded ?? '')}`;
    let decision = this.remembered.get(key);
    if (decision === undefined) {
      const ip = resolveClientIp(peer, headers, this.proxies, this.network.proxyHeader);
      decision = Object.freeze({ ip, allowed: this.allow.contains(ip) });
      if (key.length > MAX_KEY_LENGTH) return decision;
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(key, decision);
    }
    return decision;
  }

  /** Whether the TCP peer is one of the configured trusted proxies (whose headers may be believed). */
  isTrustedProxy(peer: string | undefined): boolean {
    return this.proxies.contains(peer);
  }

  get denyStatus(): 403 | 404 {
    return this.network.deny;
  }
}
