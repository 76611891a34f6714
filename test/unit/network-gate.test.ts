import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { NetworkGate } from '../../src/access/network-gate.js';
import type { Config } from '../../src/config/load.js';

const network = (overrides: Partial<Config['network']> = {}): Config['network'] =>
  ({ allow: ['127.0.0.1', '10.1.0.0/16'], trustedProxies: ['10.0.0.1'], proxyHeader: 'x-forwarded-for', deny: 404, ...overrides });

const remembered = (gate: NetworkGate) => (gate as unknown as { remembered: Map<string, unknown> }).remembered;

describe('NetworkGate: decisions remembered per peer and forwarding header', () => {
  const cases: [string | undefined, IncomingHttpHeaders, string | undefined, boolean][] = [
    ['127.0.0.1', {}, '127.0.0.1', true],
    ['127.0.0.2', {}, '127.0.0.2', false],
    ['127.0.0.2', { 'x-forwarded-for': '127.0.0.1' }, '127.0.0.2', false],
    ['10.0.0.1', { 'x-forwarded-for': '10.1.2.3' }, '10.1.2.3', true],
    ['10.0.0.1', { 'x-forwarded-for': '10.2.2.3' }, '10.2.2.3', false],
    ['10.0.0.1', { 'x-forwarded-for': '10.1.2.3, 10.2.2.3' }, '10.2.2.3', false],
    ['10.0.0.1', { 'x-forwarded-for': 'garbage' }, undefined, false],
    ['10.0.0.1', {}, '10.0.0.1', false],
    [undefined, {}, undefined, false],
  ];

  it('answers a repeated request exactly as the first time, whatever came in between', () => {
    const gate = new NetworkGate(network());
    const first = cases.map(([peer, headers]) => gate.decide(peer, headers));
    for (let round = 0; round < 3; round++) {
      cases.forEach(([peer, headers, ip, allowed], i) => {
        const decision = gate.decide(peer, headers);
        expect(decision, `${peer} ${JSON.stringify(headers)}`).toEqual({ ip, allowed });
        expect(decision).toBe(first[i]);
      });
    }
  });

  it('keys on the configured header only: another forwarding header cannot reuse or poison a decision', () => {
    const gate = new NetworkGate(network({ proxyHeader: 'forwarded' }));
    expect(gate.decide('10.0.0.1', { forwarded: 'for=10.1.2.3' })).toEqual({ ip: '10.1.2.3', allowed: true });
    expect(gate.decide('10.0.0.1', { forwarded: 'for=10.1.2.3', 'x-forwarded-for': '10.9.9.9' })).toEqual({ ip: '10.1.2.3', allowed: true });
    expect(gate.decide('10.0.0.1', { 'x-forwarded-for': '10.1.2.3' })).toEqual({ ip: '10.0.0.1', allowed: false });
  });

  it('stays bounded under a flood of made-up headers, and does not keep long ones', () => {
    const gate = new NetworkGate(network());
    for (let i = 0; i < 10_000; i++) gate.decide('10.0.0.1', { 'x-forwarded-for': `10.1.${i >> 8}.${i & 255}` });
    expect(remembered(gate).size).toBeLessThanOrEqual(4096);
    expect(remembered(gate).size).toBeGreaterThan(0);
    const gateForLong = new NetworkGate(network());
    const long = Array.from({ length: 40 }, (_, i) => `10.1.0.${i}`).join(', ');
    expect(gateForLong.decide('10.0.0.1', { 'x-forwarded-for': long })).toEqual({ ip: '10.1.0.39', allowed: true });
    expect(remembered(gateForLong).size).toBe(0);
  });
});
