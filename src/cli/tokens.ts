import { mayHoldToken } from '../access/identity.js';
import type { Config } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { openCliStore } from './store.js';
import { EXIT } from './exit-codes.js';

/** `porthole token create`: prints the token once; only its hash is stored. */
export function createToken(config: Config, user: string, name: string, expires: string | undefined): number {
  const ms = expires === undefined ? undefined : parseDuration(expires);
  if (expires !== undefined && ms === undefined) {
    console.error(`porthole: --expires expects a duration such as 30d or 12h, got "${expires}"`);
    return EXIT.usage;
  }
  if (config.auth && !mayHoldToken(config.auth, user)) {
    console.error(`porthole: no user "${user}" in auth.users`);
    return EXIT.usage;
  }
  const store = openCliStore(config);
  try {
    const { token, record } = store.tokens.create(user, name, ms === undefined ? undefined : new Date(Date.now() + ms));
    console.error(`Token "${record.name}" for ${record.user}${record.expiresAt ? `, valid until ${record.expiresAt}` : ', without expiry'}. It is shown only now:`);
    console.log(token);
    return EXIT.ok;
  } catch (error) {
    console.error(`porthole: ${(error as Error).message}`);
    return EXIT.usage;
  } finally {
    store.close();
  }
}

export function listTokens(config: Config, user: string | undefined): number {
  const store = openCliStore(config);
  try {
    const tokens = store.tokens.list(user);
    if (tokens.length === 0) console.log('no tokens');
    for (const t of tokens) {
      const state = t.revokedAt ? `revoked ${t.revokedAt}` : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? `expired ${t.expiresAt}` : 'active';
      console.log(`${t.id}  ${t.user}  ${t.name}  created ${t.createdAt}  ${t.expiresAt ? `expires ${t.expiresAt}` : 'no expiry'}  last used ${t.lastUsedAt ?? 'never'}  ${state}`);
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}

export function revokeToken(config: Config, which: { id: string } | { user: string; name: string }): number {
  const store = openCliStore(config);
  try {
    if (!store.tokens.revoke(which)) {
      console.error('porthole: no such active token');
      return EXIT.usage;
    }
    console.log('revoked');
    return EXIT.ok;
  } finally {
    store.close();
  }
}
