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

/** Where a File href (DSP0243 7.1: a URL relative to the descriptor) puts a package file. */
export type HrefTarget =
  | { kind: 'member'; name: string; backslash: boolean }
  | { kind: 'outside'; problem: string }
  | { kind: 'external' };

/**
 * Resolves a File href to the name of a package member. DSP0243 7.1 makes ovf:href a
 * URL, so a relative reference resolves as RFC 3986 section 5.2.4 removes dot segments:
 * `disks/../disk1.vmdk` is the member `disk1.vmdk`. Windows producers write backslashes;
 * they are read as `/` (as ovftool does). Only a reference that would leave the package
 * (a `..` above its folder, an absolute path, a drive letter) is `outside`: reading it
 * is refused where a file is opened, never when the descriptor is parsed.
 */
export function resolveHref(href: string): HrefTarget {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(href)) return { kind: 'external' };
  if (href === '') return { kind: 'outside', problem: 'empty name' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(href)) return { kind: 'outside', problem: 'control character' };
  const backslash = href.includes('\\');
  const h = href.replace(/\\/g, '/');
  if (h.startsWith('/')) return { kind: 'outside', problem: 'absolute path' };
  if (/^[A-Za-z]:/.test(h)) return { kind: 'outside', problem: 'drive-letter path' };
  const out: string[] = [];
  for (const seg of h.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0)
        return { kind: 'outside', problem: '".." above the package folder' };
      out.pop();
    } else out.push(seg);
  }
  if (out.length === 0) return { kind: 'outside', problem: 'names no file' };
  const name = out.join('/');
  const bad = checkPackagePath(name);
  return bad ? { kind: 'outside', problem: bad } : { kind: 'member', name, backslash };
}

/** The member name an href resolves to, or the href itself when it names none. */
export function hrefMemberName(href: string): string {
  const t = resolveHref(href);
  return t.kind === 'member' ? t.name : href;
}

/** The message for an href whose file would be read from outside the package. */
export function outsideMessage(href: string, t: HrefTarget): string {
  const why = t.kind === 'outside' ? t.problem : 'an external URL';
  return `File href "${href}" leaves the package (${why}); ` +
    'files are read only from inside the package';
}
