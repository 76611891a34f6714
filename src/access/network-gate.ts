import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config/load.js';
import { AddressList } from './address-list.js';
import { resolveClientIp } from './client-ip.js';

export interface GateDecision {
  /** The client's address as decided once for this request (undefined: could not be determined). */
  ip: string | undefined;
  allowed: boolean;
}

/** The first stage of every request: who is the client, and may they reach Porthole at all. */
export class NetworkGate {
  private readonly allow: AddressList;
  private readonly proxies: AddressList;

  constructor(private readonly network: Config['network']) {
    this.allow = new AddressList(network.allow);
    this.proxies = new AddressList(network.trustedProxies);
  }

  decide(peer: string | undefined, headers: IncomingHttpHeaders): GateDecision {
    const ip = resolveClientIp(peer, headers, this.proxies, this.network.proxyHeader);
    return { ip, allowed: this.allow.contains(ip) };
  }

  /** Whether the TCP peer is one of the configured trusted proxies (whose headers may be believed). */
  isTrustedProxy(peer: string | undefined): boolean {
    return this.proxies.contains(peer);
  }

  get denyStatus(): 403 | 404 {
    return this.network.deny;
  }
}
