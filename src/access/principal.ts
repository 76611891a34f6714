/** Who is asking, decided once per request: the client's address, and who they are if known. */
export type Principal =
  | { kind: 'anonymous'; ip: string | undefined }
  | { kind: 'user'; ip: string | undefined; user: string; groups: readonly string[]; via: 'session' | 'token' | 'header' };

