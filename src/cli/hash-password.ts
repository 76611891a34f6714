import { hashPassword } from '../access/passwords.js';
import { EXIT } from './exit-codes.js';

/** Reads one line from the terminal without showing it, or from standard input when piped. */
function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    return new Promise((resolve, reject) => {
      let text = '';
      input.setEncoding('utf8');
      input.on('data', (chunk: string) => (text += chunk));
      input.on('end', () => resolve(text.replace(/\r?\n$/, '')));
      input.on('error', reject);
    });
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\u0003') {
          done();
          reject(new Error('cancelled'));
          return;
        }
        if (char === '\r' || char === '\n' || char === '\u0004') {
          done();
          resolve(text);
          return;
        }
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    const done = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    input.on('data', onData);
  });
}

/** `porthole hash-password`: asks for a password (twice on a terminal) and prints its hash for the config. */
export async function hashPasswordCommand(): Promise<number> {
  try {
    const password = await readSecret('Password: ');
    if (process.stdin.isTTY && (await readSecret('Again: ')) !== password) {
      console.error('porthole: the two passwords differ; nothing was printed');
      return EXIT.usage;
    }
    if (password.length < 8) {
      console.error('porthole: use at least 8 characters');
      return EXIT.usage;
    }
    console.log(await hashPassword(password));
    return EXIT.ok;
  } catch {
    return EXIT.cancelled;
  }
}
