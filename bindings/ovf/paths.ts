/**
 * Safe names inside a package. An OVA member name or an href becomes a file name on
 * import, so anything that could land outside the target folder is refused: absolute
 * paths, drive letters, `..` segments, backslashes, NUL and control characters.
 */

/** Why a package path is unsafe, or null if it is fine. */
export function checkPackagePath(name: string): string | null {
  if (name === '') return 'empty name';
  if (name.length > 4096) return 'name longer than 4096 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'control character in name';
  if (name.includes('\\')) return 'backslash in name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'drive-letter path';
  const parts = name.split('/');
  if (parts.some((p) => p === '..')) return '".." path segment';
  if (parts.some((p) => p === '' || p === '.')) return 'empty or "." path segment';
  return null;
}

/** Normalises a member name as tar writers spell it (`./name`, `dir/`), then checks it. */
export function normalizeMemberName(name: string): { name: string; problem: string | null } {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  while (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
  return { name: n, problem: checkPackagePath(n) };
}
