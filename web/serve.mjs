#!/usr/bin/env node
/**
 * Serves web/dist/ (built by `npm run build:web`) on http://127.0.0.1:PORT/ and prints the
 * URL. `--port N` (default 8080; 0 picks a free port). Static files only, read-only.
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), 'dist');
const i = process.argv.indexOf('--port');
const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json',
  '.map': 'application/json', '.md': 'text/plain; charset=utf-8', '.txt': 'text/plain',
  '.png': 'image/png',
};

try { await stat(join(root, 'index.html')); } catch {
  console.error('web/dist/index.html is missing: run `npm run build:web` first');
  process.exit(2);
}

const server = createServer(async (req, res) => {
  let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  if (path.endsWith('/')) path += 'index.html';
  const file = normalize(join(root, path));
  if (!file.startsWith(root + sep)) { res.writeHead(403).end('forbidden'); return; }
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
});
server.on('error', (e) => {
  console.error(e.code === 'EADDRINUSE'
    ? `port ${port} is in use: give another with --port N (0 picks a free one)`
    : `cannot serve: ${e.message}`);
  process.exit(2);
});
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(`wasmvisor web page: http://127.0.0.1:${a.port}/`);
});
