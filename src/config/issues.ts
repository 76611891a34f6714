/** A problem found in a config file, located by file, line and key path. */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  file: string;
  line?: number;
  column?: number;
  /** Dotted key path, e.g. `actions.disk-usage.params.mount.type`. */
  key: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = [issue.file, issue.line, issue.column].filter((part) => part !== undefined).join(':');
  const key = issue.key ? `${issue.key}: ` : '';
  return `${where}: ${issue.severity}: ${key}${issue.message}`;
}

/** Thrown when a config file cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super(`${errors.length} error(s) in config:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function keyPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part))).join('.').replace(/\.\[/g, '[');
}
