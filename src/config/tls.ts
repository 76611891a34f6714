import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** Where the certificate chain and its private key are (absolute paths). */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** What the HTTPS server is given: PEM text, read fresh at start and at every reload. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
}

export interface TlsProblem {
  /** The file at fault; absent when the two do not belong together. */
  field?: keyof TlsFiles;
  message: string;
}

const PEM = {
  cert: { pattern: /-----BEGIN CERTIFICATE-----/, what: 'a PEM certificate (-----BEGIN CERTIFICATE-----)' },
  key: { pattern: /-----BEGIN (RSA |EC )?PRIVATE KEY-----/, what: 'an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)' },
} as const;

/** Reads both files and checks they are PEM and a matching pair; never echoes their content. */
export function readTls(files: TlsFiles): { credentials: TlsCredentials } | { problems: TlsProblem[] } {
  const problems: TlsProblem[] = [];
  const read = (field: keyof TlsFiles): Buffer | undefined => {
    const file = files[field];
    let content: Buffer;
    try {
      content = readFileSync(file);
    } catch (error) {
      problems.push({ field, message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` });
      return undefined;
    }
    if (!PEM[field].pattern.test(content.toString('latin1'))) {
      problems.push({ field, message: `${file} is not ${PEM[field].what}` });
      return undefined;
    }
    return content;
  };
  const cert = read('cert');
  const key = read('key');
  if (!cert || !key) return { problems };
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    return { problems: [{ message: `the certificate ${files.cert} and key ${files.key} cannot be used together: ${(error as Error).message}` }] };
  }
  return { credentials: { cert, key } };
}

/** For the server: the credentials, or an error saying every problem. */
export function tlsCredentials(files: TlsFiles): TlsCredentials {
  const result = readTls(files);
  if ('problems' in result) throw new Error(`TLS: ${result.problems.map((p) => p.message).join('; ')}`);
  return result.credentials;
}
