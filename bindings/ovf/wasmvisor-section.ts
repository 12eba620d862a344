/**
 * wasmvisor's own OVF extension section: what a VM configuration holds that OVF has no
 * element for (firmware or multiboot kernel, boot order, where serial output goes). It is
 * an extension section in wasmvisor's namespace with ovf:required="false" (DSP0243 7.3,
 * "Extensibility": a consumer that does not know it may ignore it), so other tools still
 * import the package.
 *
 *   <wasmvisor:BootSection ovf:required="false">
 *     <ovf:Info>wasmvisor boot options</ovf:Info>
 *     <wasmvisor:Firmware>multiboot</wasmvisor:Firmware>
 *     <wasmvisor:Kernel fileRef="kernel"/>  <wasmvisor:Cmdline>console=ttyS0</wasmvisor:Cmdline>
 *     <wasmvisor:Module fileRef="initrd"/>   <wasmvisor:BootOrder>disk cdrom</wasmvisor:BootOrder>
 *     <wasmvisor:Serial port="1" backend="stdio"/>
 *   </wasmvisor:BootSection>
 */
import { NS_WASMVISOR } from './namespaces.js';
import { isElementNode, type XmlAttr, type XmlElement } from './xml-tree.js';

export interface WasmvisorBoot {
  firmware?: string;
  kernelFileRef?: string;
  cmdline?: string;
  moduleFileRefs: string[];
  bootOrder?: string[];
  serial: { port: number; backend: string; path?: string }[];
}

const text = (e: XmlElement) => e.children.map((c) => (isElementNode(c) ? '' : c.text)).join('');
const attr = (e: XmlElement, name: string) =>
  e.attrs.find((a) => a.name === name && a.ns === null)?.value;

/** Reads the section from a kept element, or null if it is not wasmvisor's BootSection. */
export function readWasmvisorSection(x: XmlElement): WasmvisorBoot | null {
  if (x.ns !== NS_WASMVISOR || x.name !== 'BootSection') return null;
  const out: WasmvisorBoot = { moduleFileRefs: [], serial: [] };
  for (const c of x.children) {
    if (!isElementNode(c) || c.ns !== NS_WASMVISOR) continue;
    if (c.name === 'Firmware') out.firmware = text(c).trim();
    else if (c.name === 'Kernel') out.kernelFileRef = attr(c, 'fileRef');
    else if (c.name === 'Cmdline') out.cmdline = text(c);
    else if (c.name === 'Module') {
      const r = attr(c, 'fileRef');
      if (r) out.moduleFileRefs.push(r);
    } else if (c.name === 'BootOrder') out.bootOrder = text(c).trim().split(/\s+/).filter(Boolean);
    else if (c.name === 'Serial') {
      const s: WasmvisorBoot['serial'][number] = {
        port: Number(attr(c, 'port')),
        backend: attr(c, 'backend') ?? 'null',
      };
      const p = attr(c, 'path');
      if (p !== undefined) s.path = p;
      out.serial.push(s);
    }
  }
  return out;
}

/** Builds the section as a kept element (it is written exactly as built). */
export function buildWasmvisorSection(b: WasmvisorBoot, ovfNs: string): XmlElement {
  const el = (name: string, attrs: XmlAttr[], body?: string, ns = NS_WASMVISOR): XmlElement => ({
    ns,
    name,
    prefix: ns === NS_WASMVISOR ? 'wasmvisor' : 'ovf',
    attrs,
    children: body === undefined ? [] : [{ text: body }],
  });
  const kids: XmlElement[] = [el('Info', [], 'wasmvisor boot options', ovfNs)];
  if (b.firmware) kids.push(el('Firmware', [], b.firmware));
  if (b.kernelFileRef)
    kids.push(el('Kernel', [{ ns: null, name: 'fileRef', value: b.kernelFileRef }]));
  if (b.cmdline !== undefined) kids.push(el('Cmdline', [], b.cmdline));
  for (const m of b.moduleFileRefs)
    kids.push(el('Module', [{ ns: null, name: 'fileRef', value: m }]));
  if (b.bootOrder) kids.push(el('BootOrder', [], b.bootOrder.join(' ')));
  for (const s of b.serial) {
    const attrs: XmlAttr[] = [
      { ns: null, name: 'port', value: String(s.port) },
      { ns: null, name: 'backend', value: s.backend },
    ];
    if (s.path !== undefined) attrs.push({ ns: null, name: 'path', value: s.path });
    kids.push(el('Serial', attrs));
  }
  return {
    ns: NS_WASMVISOR, name: 'BootSection', prefix: 'wasmvisor',
    attrs: [{ ns: ovfNs, name: 'required', prefix: 'ovf', value: 'false' }],
    children: kids,
  };
}
