/**
 * The host's management API over HTTP (JSON), for `wasmvisor host ... --connect URL` and
 * for scripts (curl): the verbs of libvirt's virsh on one host.
 *
 *   GET  /vms                    the VMs with state and counters (VmInfo[])
 *   POST /vms                    start a VM: a VmSpec as JSON; answers its VmInfo
 *   GET  /vms/ID                 one VM (ID: the number or the name)
 *   POST /vms/ID/pause|resume|stop
 *   GET  /vms/ID/console         the console bytes kept; ?follow=1 streams new ones too
 *   POST /vms/ID/input           bytes for the VM's COM1
 *   GET  /vms/ID/stats           the machine's full counters (MachineStats)
 *   GET  /vms/ID/snapshot        a snapshot file (docs/snapshots.md)
 *   GET  /scheduler              the scheduler's parameters and fairness
 * Errors answer 4xx with {"error": "..."}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Host, VmSpec } from './host.js';

const MAX_BODY = 1 << 20;

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const parts: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) { fail(new Error('request body too large')); req.destroy(); return; }
      parts.push(c);
    });
    req.on('end', () => ok(Buffer.concat(parts)));
    req.on('error', fail);
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value, null, 2) + '\n');
}

/** Serves `host`'s API on `port` (0: any free one) of `address`; resolves with its URL. */
export async function serveControl(host: Host, port: number, address = '127.0.0.1'):
  Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(host, req, res).catch((e) => json(res, 400, { error: (e as Error).message }));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, address, () => ok());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${a.address}:${a.port}` };
}

async function handle(host: Host, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://host');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  if (parts[0] === 'scheduler' && parts.length === 1) return json(res, 200, host.schedulerStats());
  if (parts[0] !== 'vms') return json(res, 404, { error: `no such resource ${url.pathname}` });
  if (parts.length === 1) {
    if (method === 'GET') return json(res, 200, host.list());
    if (method === 'POST') {
      const spec = JSON.parse(String(await body(req))) as VmSpec;
      const id = await host.start(spec);
      return json(res, 201, host.info(id));
    }
    return json(res, 405, { error: `${method} /vms` });
  }
  const id = parts[1];
  try {
    host.info(id);
  } catch (e) {
    return json(res, 404, { error: (e as Error).message });
  }
  const verb = parts[2];
  if (!verb && method === 'GET') return json(res, 200, host.info(id));
  if (method === 'POST' && (verb === 'pause' || verb === 'resume' || verb === 'stop')) {
    host[verb](id);
    return json(res, 200, host.info(id));
  }
  if (verb === 'input' && method === 'POST') {
    host.input(id, new Uint8Array(await body(req)));
    return json(res, 200, { ok: true });
  }
  if (verb === 'console' && method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(host.console(id));
    if (url.searchParams.get('follow') !== '1') { res.end(); return; }
    const detach = host.attach(id, (b) => res.write(b));
    res.on('close', detach);
    void host.wait(id).then(() => { detach(); res.end(); });
    return;
  }
  if (verb === 'stats' && method === 'GET') return json(res, 200, await host.stats(id));
  if (verb === 'snapshot' && method === 'GET') {
    const bytes = await host.save(id);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(bytes);
    return;
  }
  return json(res, 404, { error: `no such action ${method} ${url.pathname}` });
}
