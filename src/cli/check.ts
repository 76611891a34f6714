import type { Config } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import type { DatasourceConfig } from '../config/schema.js';

/** The summary `porthole check` prints: what is defined, never a secret value. */
export function summarize(config: Config): string {
  const actions = [...config.actions.values()];
  const commands = actions.filter((a) => a.kind === 'command').length;
  const lines = [
    `${config.file}: OK`,
    `  actions: ${actions.length} (${commands} command${commands === 1 ? '' : 's'}, ${actions.length - commands} quer${actions.length - commands === 1 ? 'y' : 'ies'})`,
  ];
  for (const action of actions) {
    const route = action.path ? ` at ${action.path}` : '';
    const params = action.params.length > 0 ? ` params: ${action.params.map((p) => `${p.name}:${p.type}`).join(', ')}` : '';
    lines.push(`    ${action.id} [${action.kind}, ${action.safe ? 'safe' : 'unsafe'}]${route}${params}`);
  }
  const sources = Object.entries(config.datasources);
  lines.push(`  datasources: ${sources.length}`);
  for (const [name, source] of sources) lines.push(`    ${name}: ${describeSource(source)}`);
  lines.push(`  listen: ${config.listen.host}:${config.listen.port}`);
  lines.push(`  network allow: ${config.network.allow.length > 0 ? config.network.allow.join(', ') : 'nobody (empty list)'}`);
  lines.push(`  trusted proxies: ${config.network.trustedProxies.length > 0 ? config.network.trustedProxies.join(', ') : 'none'}`);
  lines.push(`  denied requests get: ${config.network.deny}`);
  const auth = config.auth;
  if (!auth) lines.push('  auth: none (the network allowlist alone decides who may view and run)');
  else {
    const ways = [
      `${Object.keys(auth.users).length} local user(s)`,
      ...(auth.oidc ? [`single sign-on via ${auth.oidc.issuer}`] : []),
      ...(auth.trustedHeader ? [`identity header ${auth.trustedHeader.user} from trusted proxies`] : []),
    ];
    lines.push(`  auth: ${ways.join(', ')}; admins: ${[...auth.admins.users, ...auth.admins.groups.map((g) => `group ${g}`)].join(', ') || 'none'}`);
    const open = actions.filter((a) => !a.allow).map((a) => a.id);
    if (open.length > 0) lines.push(`  actions only admins can use (no allow:): ${open.join(', ')}`);
  }
  for (const warning of config.warnings) lines.push(formatIssue(warning));
  return config.secrets.redact(lines.join('\n'));
}

function describeSource(source: DatasourceConfig): string {
  const mode = source.readOnly ? 'read-only' : 'read-write';
  if (source.driver === 'sqlite') return `sqlite ${source.path} (${mode})`;
  const where = source.socketPath ?? `${source.host}:${source.port}`;
  return `${source.driver} ${source.user}@${where}/${source.database} (${mode})`;
}
