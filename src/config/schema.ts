import { z } from 'zod';
import { isAddressOrRange } from '../access/address-list.js';
import { isPasswordHash } from '../access/passwords.js';
import { DURATION_HELP, SIZE_HELP, parseDuration, parseSize } from './units.js';

/**
 * The shape of porthole.yaml. Every object is strict: an unknown key is an error,
 * because a misspelt safety setting must never be silently ignored.
 */

const duration = z.string({ error: `expected ${DURATION_HELP}` }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ${DURATION_HELP}` });
    return z.NEVER;
  }
  return ms;
});

const size = z.string({ error: `expected ${SIZE_HELP}` }).transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ${SIZE_HELP}` });
    return z.NEVER;
  }
  return bytes;
});

const positiveInt = z.number().int().positive();

export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
// A leading "_" is kept for Porthole's own form fields (such as _confirm).
export const PARAM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const address = z.string().refine(isAddressOrRange, {
  message: 'expected an IPv4 or IPv6 address or CIDR range in plain notation (e.g. 127.0.0.1, ::1, 10.0.0.0/8, fd00::/8)',
});

const listen = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
  message: 'expected HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)',
});

const network = z.strictObject({
  allow: z.array(address).default(['127.0.0.1', '::1']),
  trustedProxies: z.array(address).default([]),
  /**
   * The header the trusted proxies write. Only one is read: a header the proxy does not
   * rewrite arrives straight from the client and could be forged.
   */
  proxyHeader: z.enum(['x-forwarded-for', 'forwarded'], { error: 'expected x-forwarded-for or forwarded' }).default('x-forwarded-for'),
  deny: z.union([z.literal(404), z.literal(403)], { error: 'expected 404 (hide that anything is here) or 403' }).default(404),
});

const defaults = z.strictObject({
  timeout: duration.prefault('30s'),
  killGrace: duration.prefault('5s'),
  maxOutput: size.prefault('1MiB'),
  maxRows: positiveInt.default(10_000),
  concurrency: positiveInt.default(4),
});

const limits = z.strictObject({
  concurrency: positiveInt.default(16),
  queue: z.number().int().min(0).default(64),
});

const server = z.strictObject({
  bodyLimit: size.prefault('64KiB'),
  maxHeaderSize: size.prefault('16KiB'),
  /** Most parameters one request may carry (query string or body). */
  maxParams: positiveInt.default(64),
  /** Time a client has to send its whole request. */
  requestTimeout: duration.prefault('30s'),
  keepAliveTimeout: duration.prefault('5s'),
  /** Comment lines sent on idle event streams, so proxies and clients keep them open. */
  heartbeat: duration.prefault('15s'),
  /** On SIGTERM, how long runs in flight may take before they are cancelled. */
  shutdownGrace: duration.prefault('10s'),
});

const history = z.strictObject({
  maxRuns: positiveInt.default(10_000),
  maxAge: duration.prefault('30d'),
  /** Output kept per run and stream (text) or per table (JSON of its rows). */
  maxOutput: size.prefault('64KiB'),
});

const principalList = z.strictObject({
  /** User names; "*" means anyone signed in. */
  users: z.array(z.string().min(1)).default([]),
  groups: z.array(z.string().min(1)).default([]),
  /** Client addresses or ranges, in addition to (never instead of) network.allow. */
  networks: z.array(address).default([]),
});

const allow = z.strictObject({
  view: principalList.prefault({}),
  /** May run; running implies viewing. */
  run: principalList.prefault({}),
});

const localUser = z.strictObject({
  /** From `porthole hash-password`. */
  passwordHash: z.string().refine(isPasswordHash, { message: 'expected a hash from `porthole hash-password` (scrypt$N$r$p$salt$hash)' }).optional(),
  groups: z.array(z.string().min(1)).default([]),
  name: z.string().optional(),
});

const oidc = z.strictObject({
  issuer: z.string().url({ message: 'expected the provider\'s issuer URL' }),
  clientId: z.string(),
  clientSecret: z.string().optional(),
  /** This server's callback as the provider knows it, ending in /auth/oidc/callback. */
  redirectUrl: z.string().url(),
  scopes: z.array(z.string()).default(['openid', 'profile', 'email']),
  usernameClaim: z.string().default('preferred_username'),
  /** A claim holding a group name or a list of them. */
  groupsClaim: z.string().default('groups'),
  /** Provider group → Porthole group; when given, unlisted provider groups are dropped. */
  groupMap: z.record(z.string(), z.string()).optional(),
  label: z.string().default('Sign in with single sign-on'),
});

const trustedHeader = z.strictObject({
  user: z.string().default('x-forwarded-user'),
  groups: z.string().optional(),
});

const auth = z.strictObject({
  users: z.record(z.string(), localUser).default({}),
  admins: principalList.pick({ users: true, groups: true }).prefault({}),
  session: z
    .strictObject({
      idleTimeout: duration.prefault('30m'),
      absoluteTimeout: duration.prefault('12h'),
      cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/).default('porthole_session'),
    })
    .prefault({}),
  throttle: z
    .strictObject({
      /** Failed logins allowed per user name and per address within the window. */
      maxFailures: positiveInt.default(5),
      window: duration.prefault('15m'),
    })
    .prefault({}),
  oidc: oidc.optional(),
  /** Identity set by an authenticating proxy; honoured only from network.trustedProxies. */
  trustedHeader: trustedHeader.optional(),
});

const serverDatasource = {
  host: z.string().default('127.0.0.1'),
  socketPath: z.string().optional(),
  database: z.string(),
  user: z.string(),
  password: z.string().optional(),
  readOnly: z.boolean().default(true),
  connectTimeout: duration.prefault('5s'),
  poolSize: positiveInt.default(5),
};

const mysqlDatasource = z.strictObject({
  driver: z.literal('mysql'),
  port: z.number().int().min(1).max(65535).default(3306),
  ...serverDatasource,
});

const postgresDatasource = z.strictObject({
  driver: z.literal('postgres'),
  port: z.number().int().min(1).max(65535).default(5432),
  ...serverDatasource,
});

const sqliteDatasource = z.strictObject({
  driver: z.literal('sqlite'),
  /** Relative to the config file's folder. */
  path: z.string(),
  readOnly: z.boolean().default(true),
  /** SQL run once to create the database when `path` does not exist yet. */
  initScript: z.string().optional(),
});

export const datasourceSchema = z.discriminatedUnion('driver', [mysqlDatasource, postgresDatasource, sqliteDatasource], {
  error: 'expected driver: mysql, postgres or sqlite',
});

const paramCommon = {
  label: z.string().optional(),
  description: z.string().optional(),
  required: z.boolean().optional(),
};

const stringParam = z.strictObject({
  type: z.literal('string'),
  ...paramCommon,
  default: z.string().optional(),
  pattern: z.string().optional(),
  minLength: z.number().int().min(0).optional(),
  maxLength: z.number().int().min(1).max(65_536).default(1024),
  multiline: z.boolean().default(false),
  allowLeadingDash: z.boolean().default(false),
  /** Masked in logs and history. */
  secret: z.boolean().default(false),
});

const integerParam = z.strictObject({
  type: z.literal('integer'),
  ...paramCommon,
  default: z.number().int().optional(),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  allowLeadingDash: z.boolean().default(false),
});

const numberParam = z.strictObject({
  type: z.literal('number'),
  ...paramCommon,
  default: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  allowLeadingDash: z.boolean().default(false),
});

const booleanParam = z.strictObject({
  type: z.literal('boolean'),
  ...paramCommon,
  default: z.boolean().optional(),
});

const enumValue = z.union([
  z.string(),
  z.strictObject({ value: z.string(), label: z.string().optional() }),
]);

const enumParam = z.strictObject({
  type: z.literal('enum'),
  ...paramCommon,
  values: z.array(enumValue).min(1),
  default: z.string().optional(),
  allowLeadingDash: z.boolean().default(false),
});

const dateParam = z.strictObject({
  type: z.literal('date'),
  ...paramCommon,
  default: z.string().optional(),
});

const datetimeParam = z.strictObject({
  type: z.literal('datetime'),
  ...paramCommon,
  default: z.string().optional(),
});

const PARAM_TYPES = ['string', 'integer', 'number', 'boolean', 'enum', 'date', 'datetime'] as const;

const param = z.discriminatedUnion(
  'type',
  [stringParam, integerParam, numberParam, booleanParam, enumParam, dateParam, datetimeParam],
  { error: `expected type: ${PARAM_TYPES.join(', ')}` },
);

const columnList = z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

const chart = z.strictObject({
  type: z.enum(['bar', 'line', 'pie', 'doughnut'], { error: 'expected bar, line, pie or doughnut' }),
  /** Column for the x axis (bar, line) or the slice labels (pie, doughnut). */
  x: z.string(),
  /** One or more value columns. */
  y: columnList,
  /** A column whose values split the rows into one line or bar set each. */
  series: z.string().optional(),
});

const query = z.strictObject({
  datasource: z.string(),
  sql: z.string().min(1),
});

export const actionSchema = z.strictObject({
  title: z.string().optional(),
  description: z.string().optional(),
  path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\-/]*$/, { message: 'expected an absolute URL path such as /status/ (letters, digits, . _ ~ - /)' })
    .optional(),
  safe: z.boolean().optional(),
  command: z.array(z.string()).min(1, { message: 'expected a non-empty argv array, e.g. [df, -h]' }).optional(),
  shell: z.string().min(1).optional(),
  query: query.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
  cwd: z.string().optional(),
  params: z.record(z.string(), param).optional(),
  timeout: duration.optional(),
  maxOutput: size.optional(),
  maxRows: positiveInt.optional(),
  concurrency: positiveInt.optional(),
  cache: duration.optional(),
  /** Dashboard section the action's card sits in. */
  group: z.string().min(1).optional(),
  /** How often an open dashboard fetches a safe action's result again. */
  refresh: duration.optional(),
  /** Ask before running: true, or the question to ask. */
  confirm: z.union([z.boolean(), z.string().min(1)]).optional(),
  chart: chart.optional(),
  /** Who may see and run the action once auth: is on. Absent: nobody but admins. */
  allow: allow.optional(),
});

const tls = z.strictObject({
  /** PEM certificate chain, relative to the config file's folder. */
  cert: z.string().min(1),
  /** PEM private key (unencrypted), relative to the config file's folder. */
  key: z.string().min(1),
});

export const configSchema = z.strictObject({
  listen: listen.default('127.0.0.1:8080'),
  /** Serve HTTPS directly with this certificate and key. */
  tls: tls.optional(),
  network: network.prefault({}),
  defaults: defaults.prefault({}),
  limits: limits.prefault({}),
  server: server.prefault({}),
  /** Where Porthole keeps its own state (run history); relative to the config file's folder. */
  dataDir: z.string().default('data'),
  history: history.prefault({}),
  /** Who may see and run what. Without it, the network allowlist alone decides. */
  auth: auth.optional(),
  datasources: z.record(z.string(), datasourceSchema).default({}),
  actions: z.record(z.string(), actionSchema),
});

export type RawConfig = z.output<typeof configSchema>;
export type DatasourceConfig = z.output<typeof datasourceSchema>;
export type MysqlDatasourceConfig = z.output<typeof mysqlDatasource>;
export type PostgresDatasourceConfig = z.output<typeof postgresDatasource>;
export type SqliteDatasourceConfig = z.output<typeof sqliteDatasource>;
export type ParamConfig = z.output<typeof param>;
export type ActionConfig = z.output<typeof actionSchema>;
export type ChartConfig = z.output<typeof chart>;
export type AuthConfig = z.output<typeof auth>;
export type AllowConfig = z.output<typeof allow>;
export type PrincipalList = z.output<typeof principalList>;
