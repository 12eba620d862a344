/**
 * The OVF environment over VMware's guestinfo transport (ovf:transport
 * "com.vmware.guestInfo"): import --transport guestinfo puts `guestinfo.ovfEnv` in vm.json,
 * and a guest reads it through the backdoor port as open-vm-tools' `vmware-rpctool
 * "info-get guestinfo.ovfEnv"` does (guests/systests/guestinfo.asm: GETVERSION, then the
 * RPCI channel of lib/message/message.c, 4 bytes per IN). References: the document the
 * import wrote (the reply must be "1 " and that text, byte for byte), VMware's reply for a
 * missing key ("0 No value found", lib/rpcOut and VMware's behaviour as vmware-rpctool
 * prints it), and QEMU's vmport for the GETVERSION line (hw/i386/vmport.c: EAX 6, EBX
 * 'VMXh', ECX 2), run live when qemu-system-i386 is here.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Machine } from '../../bindings/machine/machine.js';
import { prepareMachine } from '../../bindings/config/node-machine.js';
import { VmwareBackdoor } from '../../bindings/devices/vmware-backdoor.js';
import { hasTool } from '../helpers/tools.js';
import { REPO, cli, tempDir, vmdk } from './helpers.js';

const GUEST = join(REPO, 'guests/systests/guestinfo.bin');
const CSR = join(REPO, 'test/fixtures/ovf/forms/csr-style.ovf');

let lastStats: ReturnType<Machine['stats']> | undefined;

async function runGuest(guestinfo?: Record<string, string>): Promise<string> {
  let out = '';
  const m = await Machine.create({
    ramBytes: 128 << 20, kernel: new Uint8Array(readFileSync(GUEST)), guestinfo,
    serialOut: (b) => { out += String.fromCharCode(b); },
  });
  for (let i = 0; i < 100 && !out.includes('DONE'); i++) {
    const stop = m.run(10_000_000);
    if (stop.kind !== 'limit') break;
  }
  lastStats = m.stats();
  return out;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const latin1 = (s: string) => String.fromCharCode(...new TextEncoder().encode(s));

describe('guestinfo transport (VMware backdoor, RPCI)', () => {
  it('a guest reads guestinfo.ovfEnv as vmware-rpctool does; a missing key says so', async () => {
    const xml = '<?xml version="1.0"?>\n<Environment oe:id="vm">\n  <Property oe:key="h" ' +
      'oe:value="r&#xe9;1"/>\n</Environment>\n';
    const out = await runGuest({ ovfEnv: xml });
    const reply = `1 ${xml}`;
    expect(out).toBe(
      'getversion eax=00000006 ebx=564d5868 ecx=00000002\n' +
      'rpc info-get guestinfo.ovfEnv\n' +
      `reply ${hex8(new TextEncoder().encode(reply).length)} ${latin1(reply)}\nend\n` +
      'rpc info-get guestinfo.notThere\n' +
      'reply 00000010 0 No value found\nend\n' +
      'DONE\n');
    // --stats: one GETVERSION and two channels of 3 + payload + 3 calls; two RPCs.
    expect(lastStats?.backdoor?.rpcs).toBe(2);
    expect(lastStats?.backdoor?.refused).toBe(0);
  });

  it('without guestinfo the port is not there: the guest sees no VMware', async () => {
    const out = await runGuest();
    expect(out).toBe('getversion eax=ffffffff ebx=00000000 ecx=0000000a\n' +
      'no VMware backdoor\nDONE\n');
  });

  it.skipIf(!hasTool('qemu-system-i386'))('GETVERSION answers as QEMU\'s vmport', async () => {
    const q = spawnSync('sh', ['run-qemu.sh', 'guestinfo.bin'],
      { cwd: join(REPO, 'guests/systests'), encoding: 'utf8', timeout: 30_000 });
    const first = q.stdout.split('\n')[0];
    expect(first).toMatch(/^getversion /);
    expect((await runGuest({})).split('\n')[0]).toBe(first);
  });

  it('answers RPCI info-get and info-set as VMware does', () => {
    const b = new VmwareBackdoor({ a: 'x' });
    expect(b.answer('info-get guestinfo.a')).toBe('1 x');
    expect(b.answer('info-set guestinfo.b  two words')).toBe('1 ');
    expect(b.answer('info-get guestinfo.b')).toBe('1  two words');
    expect(b.answer('nonsense')).toBe('0 Unknown command');
  });

  it('import --transport guestinfo: vm.json carries guestinfo.ovfEnv, the guest reads it',
    async () => {
      const dir = tempDir();
      copyFileSync(CSR, join(dir, 'r.ovf'));
      vmdk(join(dir, 'router.vmdk'));
      const r = await cli('import', '--transport', 'guestinfo', '--property', 'hostname=edge-2',
        join(dir, 'r.ovf'), join(dir, 'vm'));
      expect(r.err).toBe('');
      expect(r.status).toBe(0);
      const cfg = JSON.parse(readFileSync(join(dir, 'vm', 'vm.json'), 'utf8'));
      expect(cfg.guestinfo).toEqual({ ovfEnv: { file: 'ovf-env.xml' } });
      // Only the transport asked for: no ISO attached.
      expect(cfg.disks.some((d: { path?: string }) => d.path === 'ovf-env.iso')).toBe(false);
      const xml = readFileSync(join(dir, 'vm', 'ovf-env.xml'), 'utf8');
      expect(xml).toContain('oe:key="com.example.router.hostname.1" oe:value="edge-2"');
      const prepared = prepareMachine(cfg, join(dir, 'vm'));
      prepared.close();
      expect(prepared.machine.guestinfo).toEqual({ ovfEnv: xml });
      const out = await runGuest(prepared.machine.guestinfo);
      expect(out).toContain(`\nreply ${hex8(new TextEncoder().encode('1 ' + xml).length)} ` +
        `${latin1('1 ' + xml)}\nend\n`);
    });

  it('a descriptor listing ovf:transport="com.vmware.guestInfo" gets it without --transport',
    async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'r.ovf'), readFileSync(CSR, 'utf8')
        .replace('ovf:transport="iso"', 'ovf:transport="com.vmware.guestInfo"'));
      vmdk(join(dir, 'router.vmdk'));
      const r = await cli('import', join(dir, 'r.ovf'), join(dir, 'vm'));
      expect(r.status).toBe(0);
      const cfg = JSON.parse(readFileSync(join(dir, 'vm', 'vm.json'), 'utf8'));
      expect(cfg.guestinfo).toEqual({ ovfEnv: { file: 'ovf-env.xml' } });
      expect(cfg.disks.some((d: { path?: string }) => d.path === 'ovf-env.iso')).toBe(false);
    });

  it('import --transport iso,guestinfo gives both; a bad name is refused', async () => {
    const dir = tempDir();
    copyFileSync(CSR, join(dir, 'r.ovf'));
    vmdk(join(dir, 'router.vmdk'));
    const r = await cli('import', '--transport', 'iso,com.vmware.guestInfo',
      join(dir, 'r.ovf'), join(dir, 'vm'));
    expect(r.status).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, 'vm', 'vm.json'), 'utf8'));
    expect(cfg.guestinfo).toEqual({ ovfEnv: { file: 'ovf-env.xml' } });
    expect(cfg.disks.some((d: { path?: string }) => d.path === 'ovf-env.iso')).toBe(true);
    const bad = await cli('import', '--transport', 'floppy', join(dir, 'r.ovf'),
      join(dir, 'vm2'));
    expect(bad.status).not.toBe(0);
    expect(bad.err).toMatch(/--transport: "floppy" is not iso or guestinfo/);
  });
});
