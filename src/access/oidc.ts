import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import type { AuthConfig } from '../config/schema.js';

export type OidcConfig = NonNullable<AuthConfig['oidc']>;

/** A sign-in started here and not yet finished: kept on the server, keyed by its state. */
interface Transaction {
  state: string;
  nonce: string;
  verifier: string;
  /** A local path (already made safe by the caller) to return to after signing in. */
  next: string;
  /** Ties the sign-in to the browser that started it (a cookie), so a callback link cannot be planted on someone else. */
  browser: string | undefined;
  created: number;
}

/** Who the provider says signed in, in Porthole's terms. */
export interface OidcIdentity {
  user: string;
  groups: string[];
  /** The local path saved when the sign-in started. */
  next: string;
}

/**
 * A sign-in that did not succeed. `message` is safe to show and to log: it never holds a
 * token, a code or the client secret, only what went wrong in a few words.
 */
export class OidcError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcError';
  }
}

export const TRANSACTION_TTL_MS = 10 * 60_000;
const MAX_TRANSACTIONS = 10_000;
/** Bounds on what a provider's group claim may contribute to a session. */
const MAX_GROUPS = 256;
const MAX_NAME_LENGTH = 256;
const TIMEOUT_SECONDS = 10;

/** Plain http is accepted only for a provider on this machine (tests, local development). */
function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A claim that holds a group name or a list of them, as a clean list (anything else counts as none). */
function groupsFromClaim(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const names = list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= MAX_NAME_LENGTH);
  return [...new Set(names)].slice(0, MAX_GROUPS);
}

/** Provider groups → Porthole groups; with a map, unlisted groups are dropped; without one, they pass as they are. */
function mapGroups(groups: readonly string[], groupMap: Record<string, string> | undefined): string[] {
  if (!groupMap) return [...groups];
  return [...new Set(groups.filter((g) => Object.hasOwn(groupMap, g)).map((g) => groupMap[g]!))];
}

/**
 * Single sign-on with OpenID Connect: discovery (once, lazily; a failure is retried by the
 * next sign-in), authorization code with PKCE (S256), state and nonce. Transactions live
 * in a bounded in-memory map for ten minutes and can be finished once.
 */
export class OidcClient {
  private discovered: Promise<client.Configuration> | undefined;
  private readonly transactions = new Map<string, Transaction>();

  constructor(
    private readonly config: OidcConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a sign-in: the provider URL to send the browser to, and the transaction kept here. */
  async start(next: string, browser?: string): Promise<{ url: URL; transaction: Readonly<Transaction> }> {
    const configuration = await this.configuration();
    const transaction: Transaction = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      next,
      browser,
      created: this.now(),
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUrl,
      scope: this.config.scopes.join(' '),
      response_type: 'code',
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(transaction.verifier),
      code_challenge_method: 'S256',
    });
    this.remember(transaction);
    return { url, transaction };
  }

  /**
   * Finishes a sign-in from the URL the provider sent the browser back to. The transaction
   * is used up whatever the outcome, so a callback can never be replayed.
   */
  async finish(callbackUrl: URL | string, browser?: string): Promise<OidcIdentity> {
    const url = new URL(callbackUrl);
    const state = url.searchParams.get('state');
    const transaction = state === null ? undefined : this.take(state);
    if (!transaction) throw new OidcError('the sign-in attempt is unknown, expired or already used; start again');
    if (transaction.browser !== undefined && transaction.browser !== browser) {
      throw new OidcError('the sign-in was started in another browser; start again');
    }
    const providerError = url.searchParams.get('error');
    if (providerError !== null) throw new OidcError(`the provider refused the sign-in (${safeCode(providerError)})`);

    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, url, {
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        pkceCodeVerifier: transaction.verifier,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new OidcError(`the provider's answer did not check out (${describe(error)})`, { cause: error });
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new OidcError('the provider sent no ID token');

    let claims: Record<string, unknown> = idClaims;
    const { usernameClaim, groupsClaim } = this.config;
    // Claims missing from the ID token may be on offer at the userinfo endpoint.
    if ((claims[usernameClaim] === undefined || claims[groupsClaim] === undefined) && configuration.serverMetadata().userinfo_endpoint) {
      try {
        const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        // The ID token (nonce-checked, straight from the token endpoint) wins where both say something.
        claims = { ...userinfo, ...idClaims };
      } catch (error) {
        throw new OidcError(`the provider's userinfo could not be read (${describe(error)})`, { cause: error });
      }
    }

    const named = claims[usernameClaim];
    const user = typeof named === 'string' && named.length > 0 && named.length <= MAX_NAME_LENGTH ? named : idClaims.sub;
    if (user.length === 0 || user.length > MAX_NAME_LENGTH) throw new OidcError('the provider named no usable user');
    const groups = mapGroups(groupsFromClaim(claims[groupsClaim]), this.config.groupMap);
    return { user, groups, next: transaction.next };
  }

  /** A fresh value for the browser-binding cookie. */
  static newBrowserId(): string {
    return randomBytes(24).toString('base64url');
  }

  private configuration(): Promise<client.Configuration> {
    if (!this.discovered) {
      const attempt = this.discover();
      this.discovered = attempt;
      // A failure is not kept: the next sign-in tries discovery again.
      attempt.catch(() => {
        if (this.discovered === attempt) this.discovered = undefined;
      });
    }
    return this.discovered;
  }

  private async discover(): Promise<client.Configuration> {
    const issuer = new URL(this.config.issuer);
    // openid-client refuses plain http. It is allowed here ONLY for a provider on a loopback
    // address (tests run a real provider on 127.0.0.1; so may local development); anything
    // else must be https, so codes, tokens and the client secret never cross a network in clear.
    const insecure = issuer.protocol === 'http:' && isLoopbackUrl(issuer);
    try {
      return await client.discovery(issuer, this.config.clientId, this.config.clientSecret, undefined, {
        timeout: TIMEOUT_SECONDS,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
    } catch (error) {
      throw new OidcError(`could not read the provider's configuration from ${issuer.origin} (${describe(error)})`, { cause: error });
    }
  }

  private remember(transaction: Transaction): void {
    this.prune();
    // Still full of live sign-ins: the oldest gives way (the map is in insertion order).
    while (this.transactions.size >= MAX_TRANSACTIONS) {
      const oldest = this.transactions.keys().next();
      if (oldest.done) break;
      this.transactions.delete(oldest.value);
    }
    this.transactions.set(transaction.state, transaction);
  }

  private take(state: string): Transaction | undefined {
    const transaction = this.transactions.get(state);
    this.transactions.delete(state);
    if (!transaction || this.now() - transaction.created > TRANSACTION_TTL_MS) return undefined;
    return transaction;
  }

  private prune(): void {
    const cutoff = this.now() - TRANSACTION_TTL_MS;
    for (const [state, transaction] of this.transactions) {
      if (transaction.created >= cutoff) break; // insertion order = creation order
      this.transactions.delete(state);
    }
  }
}

/** An OAuth error code as the provider sent it, cut down to the characters such codes use. */
function safeCode(code: string): string {
  return code.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 64) || 'unknown error';
}

/** A few safe words about a failure: error codes and library messages, never response bodies or tokens. */
function describe(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
    return `provider said ${safeCode(error.error)}`;
  }
  if (error instanceof client.ClientError) return error.message;
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  if (error instanceof TypeError) return 'the provider could not be reached';
  return 'unexpected error';
}
