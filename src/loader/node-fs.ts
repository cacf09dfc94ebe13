/** Node filesystem error helpers shared by the local-folder source and the Node cache. */

/** A path that is not there (or has a file where a folder was expected). */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The errno code of a filesystem failure, for messages. */
export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
}
