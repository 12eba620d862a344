/**
 * The page: VM panels (each a Web Worker running one machine, a terminal on its COM1,
 * live charts of its counters) and the side-by-side comparison of simulated cycles.
 * The modes, pagings and switches offered come from the package's MODES, the CPU profiles
 * from its cost model: a mode added to the package appears here without a change.
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { MODES, cost, ADAMS_AGESEN_FIG4, type ModeInfo } from 'wasmvisor';
import type { BootRequest, FromWorker, Sample, ToWorker, WorkloadSample } from './protocol.js';
import type { TimeChart, BarChart } from './charts.js';

const README = 'README.md';
const MAX_POINTS = 240;
const MAX_VMS = 4;
const LOG_MAX = 8 << 20;

const chartsModule = () => import('./charts.js');

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {},
  ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

function download(name: string, type: string, text: BlobPart): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The live charts of a panel, each with the sentence saying what it measures. */
const CHARTS = [
  { key: 'ips', title: 'Instructions per second', unit: 'million instructions/s (MIPS)',
    text: 'Guest instructions this emulator retires per second of running time: its speed ' +
      'on this machine, which the cost model never uses.', section: 'Benchmarks' },
  { key: 'exits', title: 'Exits per second, by reason', unit: 'exits/s',
    text: 'How often the CPU leaves guest code for the host, and why (io: a port access ' +
      'for the device model, hlt, irq-window...): under a hypervisor each is a world ' +
      'switch, the main cost of virtualization.', section: 'Running a guest' },
  { key: 'tlb', title: 'TLB and page walks', unit: 'events/s',
    text: 'TLB hits and misses, and the memory references of the page walks behind the ' +
      'misses: nested paging multiplies those references, which the cost model prices.',
    section: 'The CPU core' },
  { key: 'irq', title: 'Interrupts and exceptions', unit: 'events/s',
    text: 'Interrupts the PIC injected (timer, serial, disk) and events the CPU delivered ' +
      '(exceptions: page faults, system calls by int 0x80): each is priced as an event ' +
      'delivery.', section: 'Workloads in simulated cycles: the cost model' },
] as const;

type ChartKey = (typeof CHARTS)[number]['key'];

let nextId = 1;
const panels: VmPanel[] = [];

class VmPanel {
  readonly id = nextId++;
  readonly root: HTMLElement;
  private worker: Worker | undefined;
  private term: Terminal;
  private fit = new FitAddon();
  private log: number[] = [];
  samples: Sample[] = [];
  workloads: WorkloadSample[] = [];
  private bootWhat = '';
  private file: { name: string; bytes: ArrayBuffer } | undefined;
  private charts: Partial<Record<ChartKey, TimeChart>> = {};
  private els: Record<string, HTMLElement> = {};
  private state = 'idle';

  constructor(container: HTMLElement) {
    const id = this.id;
    this.root = el('section', { class: 'vm', id: `vm${id}`, 'aria-labelledby': `vm${id}-h` });
    const status = el('span', { class: 'status', role: 'status', 'aria-live': 'polite',
      text: 'not started' });
    const head = el('div', { class: 'vm-head' },
      el('h2', { id: `vm${id}-h`, text: `VM ${id}` }), status);
    const mode = el('select', { name: 'mode' });
    for (const m of MODES) mode.append(el('option', { value: m.name, text: m.label }));
    const paging = el('select', { name: 'paging' });
    const switches = el('div', { class: 'switches' });
    const profile = el('select', { name: 'profile' });
    for (const p of cost.PROFILES) {
      profile.append(el('option', { value: p.name, text: p.name, title: p.description }));
    }
    const ram = el('input', { type: 'number', name: 'ram', min: '4', max: '1024', step: '4',
      value: '64' });
    const cmdline = el('input', { type: 'text', name: 'cmdline', value: 'shell=1',
      spellcheck: 'false' });
    const apic = el('input', { type: 'checkbox', name: 'apic' });
    const echo = el('input', { type: 'checkbox', name: 'echo' });
    (echo as HTMLInputElement).checked = true;
    const modeHelp = el('p', { class: 'status', id: `vm${id}-modehelp` });
    const options = el('div', { class: 'options' },
      el('label', {}, 'Mode', mode),
      el('label', { class: 'paging-label' }, 'Paging', paging),
      el('label', {}, 'Cost profile', profile),
      el('label', {}, 'Memory (MiB)', ram),
      el('label', {}, 'Kernel command line', cmdline),
      el('label', { class: 'check' }, apic, 'Local APIC and I/O APIC'),
      el('label', { class: 'check' }, echo, 'Echo what I type'));
    const fileInput = el('input', { type: 'file', name: 'file',
      'aria-label': `A kernel, disk image or OVA for VM ${id}` });
    const fileName = el('span', { text: 'the bundled JeOS' });
    const useJeos = el('button', { type: 'button', text: 'Use JeOS' });
    const drop = el('div', { class: 'drop' },
      'Boots: ', fileName, '. Drop a Multiboot kernel, disk image or OVA on this VM, or ',
      fileInput, ' ', useJeos);
    const btn = (name: string, text: string) =>
      el('button', { type: 'button', name, text });
    const boot = btn('boot', 'Boot');
    const pause = btn('pause', 'Pause');
    const resume = btn('resume', 'Resume');
    const reset = btn('reset', 'Reset');
    const dlLog = btn('log', 'Console log (.txt)');
    const dlJson = btn('json', 'Counters (.json)');
    const dlCsv = btn('csv', 'Counters (.csv)');
    const remove = btn('remove', 'Remove');
    const save = btn('save', 'Save snapshot');
    const snapInput = el('input', { type: 'file', name: 'snapshot', accept: '.wvsnap',
      'aria-label': `Load a snapshot into VM ${id}` });
    const load = el('label', { class: 'file-button' }, 'Load snapshot: ', snapInput);
    const buttons = el('div', { class: 'buttons' }, boot, pause, resume, reset, save, load,
      dlLog, dlJson, dlCsv, remove);
    const error = el('div', { class: 'error', role: 'alert' });
    const termBox = el('div', { class: 'term', role: 'region',
      'aria-label': `COM1 terminal of VM ${id}: click or tab here, then type; Tab leaves it` });
    const numbers = el('table', { class: 'numbers' });
    numbers.append(el('caption', { class: 'status', text: 'Counters since boot' }));
    const allTable = el('table', { class: 'numbers' });
    const all = el('details', { class: 'all' }, el('summary', { text:
      'Every counter (counts since boot; new counters of the package appear here)' }),
    allTable);
    all.addEventListener('toggle', () => this.renderAll());
    const charts = el('div', { class: 'charts' });
    for (const c of CHARTS) {
      const canvas = el('canvas', { 'data-chart': c.key, role: 'img',
        'aria-label': `${c.title} (${c.unit}) over running time` });
      charts.append(el('figure', { class: 'chart' },
        el('div', { class: 'canvas-box' }, canvas),
        el('figcaption', {}, el('strong', { text: `${c.title} (${c.unit}). ` }), c.text, ' ',
          el('a', { href: README, text: `More: README, "${c.section}"` }))));
    }
    this.root.append(head, options, modeHelp, drop, buttons, error, termBox, numbers, all,
      charts);
    container.append(this.root);
    Object.assign(this.els, { status, mode, paging, switches, profile, ram, cmdline, echo, apic,
      fileName, error, numbers, modeHelp, pause, resume, reset, boot, all, allTable });
    options.append(switches);
    this.refreshMode();

    this.term = new Terminal({ fontSize: 13, scrollback: 5000, convertEol: false,
      cursorBlink: true, fontFamily: 'ui-monospace, Menlo, Consolas, monospace' });
    this.term.loadAddon(this.fit);
    this.term.open(termBox);
    this.fitTerm();
    new ResizeObserver(() => this.fitTerm()).observe(termBox);
    // Tab and Shift+Tab leave the terminal (keyboard users must get out of it); the rest
    // goes to the guest.
    this.term.attachCustomKeyEventHandler((e) => e.key !== 'Tab');
    this.term.onData((d) => {
      const bytes = Uint8Array.from(d, (ch) => ch.charCodeAt(0) & 0xff);
      this.send({ type: 'input', bytes });
      if ((echo as HTMLInputElement).checked) this.term.write(d.replace(/\r/g, '\r\n'));
    });

    mode.addEventListener('change', () => this.refreshMode());
    paging.addEventListener('change', () => this.refreshSwitches());
    profile.addEventListener('change', () => { this.renderNumbers(); renderCompare(); });
    fileInput.addEventListener('change', async () => {
      const f = (fileInput as HTMLInputElement).files?.[0];
      if (f) await this.takeFile(f);
    });
    useJeos.addEventListener('click', () => this.useJeos());
    this.root.addEventListener('dragover', (e) => {
      e.preventDefault(); this.root.classList.add('dragover');
    });
    this.root.addEventListener('dragleave', () => this.root.classList.remove('dragover'));
    this.root.addEventListener('drop', async (e) => {
      e.preventDefault();
      this.root.classList.remove('dragover');
      const f = e.dataTransfer?.files?.[0];
      if (f) { await this.takeFile(f); this.boot(); }
    });
    boot.addEventListener('click', () => this.boot());
    pause.addEventListener('click', () => this.send({ type: 'pause' }));
    resume.addEventListener('click', () => this.send({ type: 'resume' }));
    reset.addEventListener('click', () => this.reset());
    dlLog.addEventListener('click', () => download(`vm${id}-console.txt`, 'text/plain',
      this.consoleText()));
    dlJson.addEventListener('click', () => download(`vm${id}-counters.json`,
      'application/json', JSON.stringify(this.report(), null, 2)));
    dlCsv.addEventListener('click', () => download(`vm${id}-counters.csv`, 'text/csv',
      this.csv()));
    remove.addEventListener('click', () => this.remove());
    save.addEventListener('click', () => this.send({ type: 'save' }));
    snapInput.addEventListener('change', async () => {
      const f = (snapInput as HTMLInputElement).files?.[0];
      if (f) this.restore(f.name, await f.arrayBuffer());
      (snapInput as HTMLInputElement).value = '';
    });
    this.setState('idle');
  }

  /** Boots the bundled JeOS from now on (not a dropped file). */
  useJeos(): void {
    this.file = undefined;
    this.els.fileName.textContent = 'the bundled JeOS';
  }

  private fitTerm(): void {
    try { this.fit.fit(); } catch { /* not laid out yet */ }
  }

  get mode(): ModeInfo {
    const name = (this.els.mode as HTMLSelectElement).value;
    return MODES.find((m) => m.name === name) ?? MODES[0];
  }
  get profileName(): string { return (this.els.profile as HTMLSelectElement).value; }
  get label(): string { return `VM ${this.id} (${this.mode.name}, ${this.profileName})`; }

  private refreshMode(): void {
    const m = this.mode;
    const paging = this.els.paging as HTMLSelectElement;
    paging.replaceChildren(...m.paging.map((p) => el('option', { value: p, text: p })));
    if (!m.paging.length) paging.append(el('option', { value: '', text: 'the guest\'s own' }));
    paging.disabled = m.paging.length < 2;
    this.els.modeHelp.textContent = `${m.description} Changes apply at the next boot or reset.`;
    this.refreshSwitches();
  }

  private refreshSwitches(): void {
    const m = this.mode;
    const paging = (this.els.paging as HTMLSelectElement).value;
    const box = this.els.switches;
    box.replaceChildren();
    for (const s of m.switches) {
      if (s.paging && s.paging !== paging) continue;
      const cb = el('input', { type: 'checkbox', 'data-switch': s.name });
      (cb as HTMLInputElement).checked = s.default;
      box.append(el('label', { class: 'check' }, cb, s.label));
    }
  }

  private choice(): Omit<BootRequest, 'source'> {
    const switches: Record<string, boolean> = {};
    for (const cb of this.els.switches.querySelectorAll<HTMLInputElement>('[data-switch]')) {
      switches[cb.dataset.switch!] = cb.checked;
    }
    const paging = (this.els.paging as HTMLSelectElement).value || undefined;
    const ram = Math.max(4, Math.min(1024, Number((this.els.ram as HTMLInputElement).value)
      || 64));
    const apic = (this.els.apic as HTMLInputElement).checked || undefined;
    return { mode: this.mode.name, paging, switches, ramMiB: Math.round(ram / 4) * 4, apic };
  }

  private async takeFile(f: File): Promise<void> {
    this.file = { name: f.name, bytes: await f.arrayBuffer() };
    this.els.fileName.textContent = `${f.name} (${fmt(f.size)} bytes)`;
  }

  private send(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  boot(): void {
    this.worker?.terminate();
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => this.showError(`the VM's worker failed: ${ev.message}`);
    this.clearRun();
    const cmdline = (this.els.cmdline as HTMLInputElement).value;
    const source: BootRequest['source'] = this.file
      ? { kind: 'file', name: this.file.name, bytes: this.file.bytes.slice(0), cmdline }
      : { kind: 'jeos', cmdline };
    this.setState('booting');
    this.send({ type: 'boot', request: { source, ...this.choice() } });
  }

  /** Replaces the VM by one restored from a snapshot file. */
  restore(name: string, bytes: ArrayBuffer): void {
    this.worker?.terminate();
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => this.showError(`the VM's worker failed: ${ev.message}`);
    this.clearRun();
    this.setState('booting');
    this.send({ type: 'restore', name, bytes }, [bytes]);
  }

  private reset(): void {
    if (!this.worker) { this.boot(); return; }
    this.clearRun();
    this.setState('booting');
    this.send({ type: 'reset' });
  }

  private clearRun(): void {
    this.term.reset();
    this.log = [];
    this.samples = [];
    this.workloads = [];
    this.els.error.textContent = '';
    for (const c of Object.values(this.charts)) c?.update([]);
    this.renderNumbers();
    renderCompare();
  }

  private showError(message: string): void {
    this.els.error.textContent = message;
    this.setState('error');
  }

  private setState(state: string, detail = ''): void {
    this.state = state;
    const text: Record<string, string> = {
      idle: 'not started', booting: 'booting...', running: 'running',
      waiting: 'running, waiting for input or a timer (idle)', paused: 'paused',
      error: 'could not boot',
    };
    this.els.status.textContent = (text[state] ?? state) + (detail ? `: ${detail}` : '') +
      (this.bootWhat && state !== 'error' ? ` (${this.bootWhat})` : '');
    this.root.dataset.state = state;
    const live = ['running', 'waiting'].includes(state);
    (this.els.pause as HTMLButtonElement).disabled = !live;
    (this.els.resume as HTMLButtonElement).disabled = state !== 'paused';
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'booted': this.bootWhat = m.what; this.setState('running'); break;
      case 'snapshot':
        download(`vm${this.id}.wvsnap`, 'application/octet-stream', m.bytes as BlobPart);
        break;
      case 'out': {
        for (const b of m.bytes) this.log.push(b);
        // The log keeps the last 8 MiB of a chatty guest's console.
        if (this.log.length > LOG_MAX) this.log.splice(0, this.log.length - LOG_MAX);
        this.term.write(m.bytes);
        break;
      }
      case 'sample':
        this.samples.push(m.sample);
        this.renderNumbers();
        void this.renderCharts();
        break;
      case 'workload':
        this.workloads.push(m.result);
        renderCompare();
        break;
      case 'state': this.setState(m.state); break;
      case 'stopped':
        this.setState('stopped', `${m.reason}: ${m.detail}`);
        if (m.abnormal) this.els.error.textContent = `The guest ${m.reason}: ${m.detail}`;
        break;
      case 'error': this.showError(m.message); break;
    }
  }

  consoleText(): string {
    let s = '';
    for (const b of this.log) s += String.fromCharCode(b);
    return s;
  }

  private profile() { return cost.profile(this.profileName); }

  private renderNumbers(): void {
    const t = this.els.numbers as HTMLTableElement;
    const s = this.samples[this.samples.length - 1];
    const prev = this.samples[this.samples.length - 2];
    t.querySelectorAll('tr').forEach((r) => r.remove());
    if (!s) return;
    const p = this.profile();
    const sim = cost.simulate(s.costCounters, p);
    const dt = prev ? (s.wallMs - prev.wallMs) / 1000 : 0;
    const mips = prev && dt > 0 ? (s.instructions - prev.instructions) / dt / 1e6 : NaN;
    let exits = 0;
    for (const [k, v] of Object.entries(s.exits)) if (k !== 'budget') exits += v;
    const rows: [string, string][] = [
      ['Guest instructions', `${fmt(s.instructions)} instructions`],
      ['Speed (last interval)', `${fmt(mips, 1)} MIPS`],
      ['Running time', `${fmt(s.wallMs / 1000, 1)} s (wall clock since boot, pauses left out)`],
      ['Virtual time', `${fmt(s.virtualNs / 1e9, 3)} s (of which halted ` +
        `${fmt(s.haltedNs / 1e9, 3)} s)`],
      ['Exits', `${fmt(exits)} exits (${Object.entries(s.exits).filter(([k]) => k !== 'budget')
        .map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'})`],
      ['Interrupts injected', `${fmt(s.interruptsInjected)} interrupts`],
      ['Exceptions delivered', `${fmt(s.core.exceptions ?? 0)} exceptions`],
      ['TLB', `${fmt(s.core.tlbHits)} hits, ${fmt(s.core.tlbMisses)} misses`],
      ['Page-walk references', `${fmt(s.core.walkMemRefs)} memory references`],
      ['Simulated cycles', `${fmt(sim.total)} cycles (${p.name})`],
      ['Simulated time', `${fmt(sim.seconds * 1e3, 3)} ms at ${p.ghz.value} GHz`],
    ];
    for (const [k, v] of rows) {
      t.append(el('tr', {}, el('th', { scope: 'row', text: k }), el('td', { text: v })));
    }
    this.renderAll();
  }

  /** Every counter of the last sample: the core's, exits by reason, the priced counts. */
  private renderAll(): void {
    if (!(this.els.all as HTMLDetailsElement).open) return;
    const s = this.samples[this.samples.length - 1];
    const rows: [string, number][] = s ? [
      ...Object.entries(s.core).map(([k, v]) => [`core.${k}`, v] as [string, number]),
      ...Object.entries(s.exits).map(([k, v]) => [`exits.${k}`, v] as [string, number]),
      ...Object.entries(s.costCounters).map(([k, v]) => [`priced.${k}`, v] as
        [string, number]),
      ...Object.entries(s.extra ?? {}),
    ] : [];
    this.els.allTable.replaceChildren(...rows.map(([k, v]) => el('tr', {},
      el('th', { scope: 'row', text: k }), el('td', { text: fmt(v) }))));
  }

  private async renderCharts(): Promise<void> {
    const { TimeChart } = await chartsModule();
    for (const c of CHARTS) {
      if (!this.charts[c.key]) {
        const canvas = this.root.querySelector<HTMLCanvasElement>(`canvas[data-chart=${c.key}]`);
        if (canvas) this.charts[c.key] = new TimeChart(canvas, c.unit);
      }
    }
    const ss = this.samples.slice(-MAX_POINTS - 1);
    const rate = (f: (s: Sample) => number) => {
      const pts: { x: number; y: number }[] = [];
      for (let i = 1; i < ss.length; i++) {
        const dt = (ss[i].wallMs - ss[i - 1].wallMs) / 1000;
        if (dt > 0) pts.push({ x: ss[i].wallMs / 1000, y: (f(ss[i]) - f(ss[i - 1])) / dt });
      }
      return pts;
    };
    this.charts.ips?.update([{ label: 'MIPS',
      points: rate((s) => s.instructions).map((p) => ({ x: p.x, y: p.y / 1e6 })) }]);
    // The machine's exits by reason, and any count by reason a mode adds to its stats
    // (a name with "exit" in it and a reason after the dot, such as VM exits by reason).
    const reasons = new Set<string>();
    for (const s of ss) {
      for (const k of Object.keys(s.exits)) if (k !== 'budget') reasons.add(k);
      for (const k of Object.keys(s.extra ?? {})) if (/exit.*\./i.test(k)) reasons.add(k);
    }
    const exitCount = (s: Sample, r: string) => s.exits[r] ?? s.extra?.[r] ?? 0;
    this.charts.exits?.update([...reasons].sort().map((r) => ({
      label: r, points: rate((s) => exitCount(s, r)) })));
    this.charts.tlb?.update([
      { label: 'hits', points: rate((s) => s.core.tlbHits) },
      { label: 'misses', points: rate((s) => s.core.tlbMisses) },
      { label: 'walk refs', points: rate((s) => s.core.walkMemRefs) },
    ]);
    this.charts.irq?.update([
      { label: 'interrupts injected', points: rate((s) => s.interruptsInjected) },
      { label: 'exceptions', points: rate((s) => s.core.exceptions ?? 0) },
    ]);
  }

  /** Simulated cycles per iteration of each workload under this VM's profile. */
  priced(): { workload: string; cyclesPerIter: number; exitsPerIter: number }[] {
    const p = this.profile();
    return this.workloads.map((w) => ({
      workload: w.workload,
      cyclesPerIter: cost.simulate(w.counters, p).total / w.iterations,
      exitsPerIter: w.exits / w.iterations,
    }));
  }

  private report(): unknown {
    return {
      vm: this.id, boot: this.bootWhat, mode: this.choice(), profile: this.profileName,
      state: this.state, samples: this.samples,
      workloads: this.workloads.map((w, i) => ({ ...w, ...this.priced()[i],
        profile: this.profileName })),
    };
  }

  private csv(): string {
    const p = this.profile();
    const head = ['wall_s', 'virtual_s', 'instructions', 'exits', 'interrupts_injected',
      'exceptions', 'tlb_hits', 'tlb_misses', 'walk_refs', `simulated_cycles_${p.name}`];
    const lines = [head.join(',')];
    for (const s of this.samples) {
      let exits = 0;
      for (const [k, v] of Object.entries(s.exits)) if (k !== 'budget') exits += v;
      lines.push([s.wallMs / 1000, s.virtualNs / 1e9, s.instructions, exits,
        s.interruptsInjected, s.core.exceptions ?? 0, s.core.tlbHits, s.core.tlbMisses,
        s.core.walkMemRefs, cost.simulate(s.costCounters, p).total].join(','));
    }
    if (this.workloads.length) {
      lines.push('', 'workload,iterations,exits_per_iter,' +
        `simulated_cycles_per_iter_${p.name}`);
      for (const w of this.priced()) {
        const it = this.workloads.find((x) => x.workload === w.workload)!.iterations;
        lines.push([w.workload, it, w.exitsPerIter, w.cyclesPerIter].join(','));
      }
    }
    return lines.join('\n') + '\n';
  }

  private remove(): void {
    this.worker?.terminate();
    for (const c of Object.values(this.charts)) c?.destroy();
    this.term.dispose();
    this.root.remove();
    panels.splice(panels.indexOf(this), 1);
    (document.getElementById('add-vm') as HTMLButtonElement).disabled = false;
    renderCompare();
  }
}

let compareChart: BarChart | undefined;

/** The comparison table and chart, from every panel's workloads. */
function renderCompare(): void {
  const table = document.getElementById('compare-table') as HTMLTableElement;
  const names: string[] = [];
  const priced = panels.map((p) => p.priced());
  for (const rows of priced) for (const r of rows) if (!names.includes(r.workload)) {
    names.push(r.workload);
  }
  const thead = table.tHead!;
  const tbody = table.tBodies[0];
  thead.replaceChildren(el('tr', {}, el('th', { scope: 'col', text: 'workload' }),
    ...panels.map((p) => el('th', { scope: 'col', text: p.label })),
    el('th', { scope: 'col', text: 'A&A native' }), el('th', { scope: 'col', text: 'A&A BT' }),
    el('th', { scope: 'col', text: 'A&A VT-x' })));
  tbody.replaceChildren(...names.map((n) => {
    const fig = ADAMS_AGESEN_FIG4[n];
    return el('tr', {}, el('th', { scope: 'row', text: n }),
      ...priced.map((rows) => {
        const r = rows.find((x) => x.workload === n);
        return el('td', { text: r ? `${fmt(r.cyclesPerIter)} (${fmt(r.exitsPerIter, 2)})` : '' });
      }),
      ...(['native', 'bt', 'vtx'] as const).map((k) =>
        el('td', { text: fig ? fmt(fig[k]) : '' })));
  }));
  void (async () => {
    const { BarChart, COLORS } = await chartsModule();
    const canvas = document.getElementById('compare-chart') as HTMLCanvasElement;
    compareChart ??= new BarChart(canvas, 'simulated cycles per iteration');
    const labels = names.length ? names : Object.keys(ADAMS_AGESEN_FIG4);
    const sets = panels.map((p, i) => ({
      label: p.label, color: COLORS[i % COLORS.length],
      data: labels.map((n) => priced[i].find((r) => r.workload === n)?.cyclesPerIter ?? null),
    }));
    const greys = { native: '#9ca3af', bt: '#6b7280', vtx: '#374151' };
    for (const k of ['native', 'bt', 'vtx'] as const) {
      sets.push({ label: `A&A ${k === 'bt' ? 'BT' : k === 'vtx' ? 'VT-x' : 'native'} (P4)`,
        color: greys[k], data: labels.map((n) => ADAMS_AGESEN_FIG4[n]?.[k] ?? null) });
    }
    compareChart.update(labels, sets);
  })();
}

function addPanel(): VmPanel | undefined {
  if (panels.length >= MAX_VMS) return undefined;
  const p = new VmPanel(document.getElementById('vms')!);
  panels.push(p);
  (document.getElementById('add-vm') as HTMLButtonElement).disabled = panels.length >= MAX_VMS;
  renderCompare();
  return p;
}

document.getElementById('add-vm')!.addEventListener('click', () => addPanel());
document.getElementById('run-all')!.addEventListener('click', () => {
  for (const p of panels) { p.useJeos(); p.boot(); }
});
addPanel();
// For tests and the console: the panels.
(globalThis as Record<string, unknown>).wasmvisorPage = { panels, addPanel };
