/*
 * runner: executes one IA-32 instruction on the host CPU per input line and prints what
 * it did. Built with `gcc -m32`; needs Linux (fixed mappings, signals, modify_ldt).
 *
 * The instruction runs in user mode at a fixed address with every general register,
 * EFLAGS and the memory it touches chosen by the caller, so the results do not depend on
 * where the host put its own stack or heap. The replay in wasmvisor rebuilds the same
 * state at the same linear addresses.
 *
 * Input, one vector per line (hex, space separated):
 *   B<instruction bytes> R<eax>,<ecx>,<edx>,<ebx>,<esp>,<ebp>,<esi>,<edi>,<eflags>
 *   [S] [C] [K] [X] [T<target>] M<addr>:<bytes> ...
 * `S` loads DS and ES with a 16-bit data segment (base SEG16_BASE, limit 0xffff) for the
 * address-size (0x67) forms, whose 16-bit offsets cannot reach a user mapping otherwise.
 * `T` (decimal, relative to CODE) is where a branch may go: a second epilogue waits there.
 * `C` runs the instruction in a 16-bit code segment based at CODE (LDT entry 1, limit
 * 0xffff): the prologue jumps there far, and the exception's EIP is then the offset.
 * `X` (with `S`) makes DS and ES an expand-down 16-bit data segment instead: base
 * SEG16_BASE, limit 0x7ff, so offsets 0x800-0xffff are valid (LDT entry 2).
 * `K` runs it on a 16-bit stack: SS is the 16-bit data segment (base SEG16_BASE, B = 0),
 * so stack accesses use SP; the stubs reach their own data through DS and CS then.
 * `K<sel>` (hex) does the same with SS = sel, any stack segment of the LDT (0: the flat SS).
 * `D<sel>` (hex) loads DS and ES with sel instead of the flat data segment (like `S`).
 * `G` reports SS, DS and ES after the instruction (or at the fault): ` G<ss>,<ds>,<es>`.
 * The LDT (entries below, all DPL 3) is fixed; `runner --ldt` prints the flat CS and SS
 * Linux gave the process and the raw LDT as the kernel stored it (modify_ldt function 0),
 * which the replay loads as it is.
 * Output, one line per input line:
 *   ok R<9 registers as above> M<bytes> ... [E<eip - CODE>]   (regions after; E with T)
 *   ex <vector> <error code> <eip - CODE> R<registers at the fault>
 *   err <what>                                    (the vector is not usable)
 * The code around CODE is filled with INT3, so a branch that goes astray shows as #BP.
 * The vector number comes from the kernel's trap number (uc_mcontext REG_TRAPNO), so a
 * divide error is 0, an invalid opcode 6, a general protection fault 13.
 */
#define _GNU_SOURCE
#include <asm/ldt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* Shared with the generator and the replay (tools/vectors/layout.ts). */
#define CODE 0x00100000u        /* first byte of the instruction under test */
#define WIN 0x00110000u         /* watched window: data, string buffers, stack */
#define WIN_SIZE 0x2000u
#define SEG16_BASE 0x00110000u  /* base of the 16-bit data segment for 0x67 forms */

/* Host-only scratch, outside the watched window. */
#define ARENA 0x000ff000u
#define ARENA_SIZE 0x00021000u   /* ARENA .. 0x00120000 */
#define RECOVER 0x000ff000u      /* resumes the host after a fault */
#define SCRATCH 0x00108000u
#define SAVE_ESP (SCRATCH + 0x00)
#define IN_ESP (SCRATCH + 0x04)
#define IN_FRAME (SCRATCH + 0x40)   /* popad order: edi esi ebp - ebx edx ecx eax, eflags */
#define OUT_TOP (SCRATCH + 0x100)   /* pushfd then pushad below it */
#define OUT_ESP (SCRATCH + 0x104)
#define WHICH_END (SCRATCH + 0x108)  /* 1: fell through, 2: at the branch target */
#define SS16_VAR (SCRATCH + 0x10)     /* selector of the 16-bit stack segment */
#define FLAT_SS_VAR (SCRATCH + 0x14)  /* the flat user SS */
#define OUT_SEGS (SCRATCH + 0x110)    /* SS, DS, ES after the instruction (`G`) */
#define CODE_LO (CODE - 0x100)       /* INT3-filled code area */
#define CODE_HI (CODE + 0x400)
#define MAX_INSN 32u /* beyond 15 bytes to see the #GP of an over-long instruction */
#define MAX_REGIONS 8
#define FILL 0xa5

static volatile int faulted;
static volatile uint32_t fault_vec, fault_err, fault_regs[10], fault_segs[3];
static int ldt_ok;
static uint16_t flat_cs, flat_ss; /* the user code and stack segments Linux gave us */
static int stack16;               /* the vector runs on the 16-bit stack (`K`) */
static int report_segs;           /* `G`: record SS, DS, ES */
#define CODE16_SEL 0x0f         /* LDT entry 1, RPL 3 */
#define EPI32 (CODE + 0x300)    /* where 16-bit code jumps back to 32-bit code */

static void die(const char *msg) {
  fprintf(stderr, "runner: %s\n", msg);
  exit(2);
}

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  ucontext_t *uc = ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  faulted = 1;
  fault_vec = (uint32_t)g[REG_TRAPNO];
  fault_err = (uint32_t)g[REG_ERR];
  fault_regs[0] = g[REG_EAX]; fault_regs[1] = g[REG_ECX];
  fault_regs[2] = g[REG_EDX]; fault_regs[3] = g[REG_EBX];
  fault_regs[4] = g[REG_ESP]; fault_regs[5] = g[REG_EBP];
  fault_regs[6] = g[REG_ESI]; fault_regs[7] = g[REG_EDI];
  fault_regs[8] = g[REG_EFL]; fault_regs[9] = g[REG_EIP];
  fault_segs[0] = g[REG_SS] & 0xffff;
  fault_segs[1] = g[REG_DS] & 0xffff;
  fault_segs[2] = g[REG_ES] & 0xffff;
  g[REG_EIP] = RECOVER;
  g[REG_CS] = flat_cs;
  g[REG_SS] = flat_ss;
  g[REG_EFL] &= ~0x100u; /* no single-step on the way back */
}

static uint8_t *emit(uint8_t *p, const uint8_t *bytes, size_t n) {
  memcpy(p, bytes, n);
  return p + n;
}
static uint8_t *emit32(uint8_t *p, uint32_t v) {
  memcpy(p, &v, 4);
  return p + 4;
}

/* mov ax,ss ; mov ds,ax ; mov es,ax : back to the flat user data segment (Linux: SS=DS=ES). */
static const uint8_t flat_segs[] = {0x8c, 0xd0, 0x8e, 0xd8, 0x8e, 0xc0};
/* mov ax,7 ; mov ds,ax ; mov es,ax : LDT entry 0, RPL 3. */
static uint8_t seg16_segs[] = {0x66, 0xb8, 0x07, 0x00, 0x8e, 0xd8, 0x8e, 0xc0};
#define SEG16_SEL 0x07      /* LDT entry 0, RPL 3 */
#define EXPDOWN_SEL 0x17    /* LDT entry 2, RPL 3 */

static void build_recover(void) {
  uint8_t *p = (uint8_t *)RECOVER;
  p = emit(p, flat_segs, sizeof flat_segs);
  p = emit(p, (const uint8_t[]){0x36, 0x8b, 0x25}, 3); /* mov esp, ss:[SAVE_ESP] */
  p = emit32(p, SAVE_ESP);
  p = emit(p, (const uint8_t[]){0x61, 0xfc, 0xc3}, 3); /* popad ; cld ; ret */
}

#define EPILOGUE_MAX 48 /* without `G`, which branch vectors do not use */

/* Records which end was reached (mov byte ss:[WHICH_END], id; no flag changes), saves the
 * registers and returns to the host. */
static uint8_t *build_epilogue(uint8_t *q, uint8_t id, int seg16) {
  /* On the 16-bit stack SS is not flat, but DS is (K and S never go together). */
  uint8_t seg = stack16 ? 0x3e : 0x36;
  q = emit(q, (const uint8_t[]){seg, 0xc6, 0x05}, 3);
  q = emit32(q, WHICH_END);
  *q++ = id;
  q = emit(q, (const uint8_t[]){seg, 0x89, 0x25}, 3);  /* mov [OUT_ESP], esp */
  q = emit32(q, OUT_ESP);
  if (report_segs) {                                   /* mov [OUT_SEGS + 0/2/4], ss/ds/es */
    q = emit(q, (const uint8_t[]){seg, 0x8c, 0x15}, 3);
    q = emit32(q, OUT_SEGS);
    q = emit(q, (const uint8_t[]){seg, 0x8c, 0x1d}, 3);
    q = emit32(q, OUT_SEGS + 2);
    q = emit(q, (const uint8_t[]){seg, 0x8c, 0x05}, 3);
    q = emit32(q, OUT_SEGS + 4);
  }
  if (stack16) {                                       /* mov ss, cs:[FLAT_SS_VAR] */
    q = emit(q, (const uint8_t[]){0x2e, 0x8e, 0x15}, 3);
    q = emit32(q, FLAT_SS_VAR);
  }
  *q++ = 0xbc;                                         /* mov esp, OUT_TOP */
  q = emit32(q, OUT_TOP);
  *q++ = 0x9c;                                         /* pushfd */
  *q++ = 0x60;                                         /* pushad */
  if (seg16 || report_segs) q = emit(q, flat_segs, sizeof flat_segs); /* POP ES, MOV DS */
  q = emit(q, (const uint8_t[]){0x36, 0x8b, 0x25}, 3); /* mov esp, ss:[SAVE_ESP] */
  q = emit32(q, SAVE_ESP);
  q = emit(q, (const uint8_t[]){0x61, 0xfc, 0xc3}, 3); /* popad ; cld ; ret */
  return q;
}

/* Writes prologue (ending at CODE), the instruction, and the epilogue. Returns the entry. */
static uint8_t *build_stub(const uint8_t *insn, size_t n, int seg16, int code16) {
  uint8_t pro[64], *p = pro;
  *p++ = 0x60;                                         /* pushad */
  p = emit(p, (const uint8_t[]){0x89, 0x25}, 2);       /* mov [SAVE_ESP], esp */
  p = emit32(p, SAVE_ESP);
  if (seg16) p = emit(p, seg16_segs, sizeof seg16_segs);
  *p++ = 0xbc;                                         /* mov esp, IN_FRAME */
  p = emit32(p, IN_FRAME);
  *p++ = 0x61;                                         /* popad */
  *p++ = 0x9d;                                         /* popfd */
  if (stack16) {                                       /* mov ss, cs:[SS16_VAR] */
    p = emit(p, (const uint8_t[]){0x2e, 0x8e, 0x15}, 3);
    p = emit32(p, SS16_VAR);
  }
  p = emit(p, (const uint8_t[]){stack16 ? 0x2e : 0x36, 0x8b, 0x25}, 3); /* mov esp, [IN_ESP] */
  p = emit32(p, IN_ESP);
  if (code16) { /* jmp far CODE16_SEL:0 */
    *p++ = 0xea;
    p = emit32(p, 0);
    p = emit(p, (const uint8_t[]){CODE16_SEL, 0}, 2);
  }
  size_t plen = (size_t)(p - pro);
  memset((void *)CODE_LO, 0xcc, CODE_HI - CODE_LO);
  uint8_t *entry = (uint8_t *)(CODE - plen);
  memcpy(entry, pro, plen);

  memcpy((void *)CODE, insn, n);
  if (code16) { /* 16-bit code: jmp far flat_cs:EPI32 (0x66 for a 32-bit offset) */
    uint8_t *q = (uint8_t *)CODE + n;
    q = emit(q, (const uint8_t[]){0x66, 0xea}, 2);
    q = emit32(q, EPI32);
    emit(q, (const uint8_t[]){(uint8_t)flat_cs, (uint8_t)(flat_cs >> 8)}, 2);
    build_epilogue((uint8_t *)EPI32, 1, seg16);
  } else {
    build_epilogue((uint8_t *)CODE + n, 1, seg16);
  }
  return entry;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parses hex digits into bytes; returns the count or -1. */
static long parse_bytes(const char *s, uint8_t *out, size_t max) {
  size_t n = 0;
  while (s[0] && s[0] != ' ' && s[0] != '\n') {
    int hi = hexval(s[0]), lo = hexval(s[1]);
    if (hi < 0 || lo < 0 || n >= max) return -1;
    out[n++] = (uint8_t)(hi << 4 | lo);
    s += 2;
  }
  return (long)n;
}

struct region { uint32_t addr, len; };

static void print_hex(const uint8_t *p, uint32_t n) {
  static const char d[] = "0123456789abcdef";
  for (uint32_t i = 0; i < n; i++) { putchar(d[p[i] >> 4]); putchar(d[p[i] & 15]); }
}

static void print_regs(const uint32_t r[9]) {
  printf("R");
  for (int i = 0; i < 9; i++) printf(i ? ",%x" : "%x", r[i]);
}

static void run_line(char *line) {
  uint8_t insn[MAX_INSN];
  long ilen = -1;
  uint32_t in[9];
  int have_regs = 0, seg16 = 0, code16 = 0, nreg = 0, have_target = 0, expdown = 0;
  unsigned data_sel = 0, stack_sel = SEG16_SEL;
  long target = 0;
  struct region reg[MAX_REGIONS];
  static uint8_t membuf[WIN_SIZE];
  stack16 = 0;
  report_segs = 0;

  memset((void *)WIN, FILL, WIN_SIZE);
  for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
    if (tok[0] == 'B') {
      ilen = parse_bytes(tok + 1, insn, MAX_INSN);
    } else if (tok[0] == 'R') {
      if (sscanf(tok + 1, "%x,%x,%x,%x,%x,%x,%x,%x,%x", &in[0], &in[1], &in[2], &in[3],
                 &in[4], &in[5], &in[6], &in[7], &in[8]) != 9) { puts("err bad-registers"); return; }
      have_regs = 1;
    } else if (tok[0] == 'S') {
      seg16 = 1;
    } else if (tok[0] == 'C') {
      code16 = 1;
    } else if (tok[0] == 'K') {
      stack16 = 1;
      if (tok[1]) stack_sel = (unsigned)strtoul(tok + 1, NULL, 16);
      if (tok[1] && stack_sel == 0) stack_sel = flat_ss;
    } else if (tok[0] == 'D') {
      seg16 = 1;
      data_sel = (unsigned)strtoul(tok + 1, NULL, 16);
    } else if (tok[0] == 'G') {
      report_segs = 1;
    } else if (tok[0] == 'X') {
      expdown = 1;
    } else if (tok[0] == 'T') {
      target = strtol(tok + 1, NULL, 10);
      have_target = 1;
    } else if (tok[0] == 'M') {
      uint32_t a;
      char *colon = strchr(tok, ':');
      if (!colon || nreg == MAX_REGIONS || sscanf(tok + 1, "%x", &a) != 1) { puts("err bad-region"); return; }
      long n = parse_bytes(colon + 1, membuf, sizeof membuf);
      if (n <= 0 || a < WIN || a + (uint32_t)n > WIN + WIN_SIZE) { puts("err region-outside-window"); return; }
      memcpy((void *)a, membuf, (size_t)n);
      reg[nreg].addr = a; reg[nreg].len = (uint32_t)n; nreg++;
    } else { puts("err bad-token"); return; }
  }
  if (ilen <= 0 || !have_regs) { puts("err incomplete"); return; }
  if ((seg16 || code16 || stack16) && !ldt_ok) { puts("err no-ldt"); return; }
  if (code16 && have_target) { puts("err no-branches-in-16-bit-code"); return; }
  if (expdown && !seg16) { puts("err X-needs-S"); return; }
  if (report_segs && have_target) { puts("err G-with-a-branch-target"); return; }
  seg16_segs[2] = data_sel ? data_sel : expdown ? EXPDOWN_SEL : SEG16_SEL;
  *(uint16_t *)SS16_VAR = (uint16_t)stack_sel;
  if (stack16 && (seg16 || code16)) { puts("err 16-bit-stack-needs-flat-ds-and-cs"); return; }
  if (in[8] & 0x40100u) { puts("err tf-or-ac-in-eflags"); return; }

  uint32_t *frame = (uint32_t *)IN_FRAME;
  frame[0] = in[7]; frame[1] = in[6]; frame[2] = in[5]; frame[3] = 0;
  frame[4] = in[3]; frame[5] = in[2]; frame[6] = in[1]; frame[7] = in[0];
  frame[8] = in[8];
  *(uint32_t *)IN_ESP = in[4];
  faulted = 0;
  void (*entry)(void) = (void (*)(void))build_stub(insn, (size_t)ilen, seg16, code16);
  if (have_target) {
    /* The target's epilogue must not overlap the prologue, the instruction or its epilogue. */
    long lo = -64, hi = ilen + EPILOGUE_MAX;
    if (target + EPILOGUE_MAX > (long)(CODE_HI - CODE) || target < (long)CODE_LO - (long)CODE ||
        (target + EPILOGUE_MAX > lo && target < hi)) { puts("err target-overlaps"); return; }
    build_epilogue((uint8_t *)(CODE + target), 2, seg16);
  }
  *(volatile uint8_t *)WHICH_END = 0;
  __asm__ volatile("" ::: "memory");
  entry();
  __asm__ volatile("" ::: "memory");

  /* Nothing outside the declared regions may have changed. */
  for (uint32_t a = WIN; a < WIN + WIN_SIZE; a++) {
    int inside = 0;
    for (int i = 0; i < nreg; i++) inside |= a >= reg[i].addr && a < reg[i].addr + reg[i].len;
    if (!inside && *(volatile uint8_t *)a != FILL) { printf("err wrote-outside %x\n", a); return; }
  }
  if (faulted) {
    uint32_t r[9];
    for (int i = 0; i < 9; i++) r[i] = fault_regs[i];
    printf("ex %x %x %x ", fault_vec, fault_err, code16 ? fault_regs[9] : fault_regs[9] - CODE);
    print_regs(r);
    if (report_segs) printf(" G%x,%x,%x", fault_segs[0], fault_segs[1], fault_segs[2]);
  } else {
    const uint32_t *o = (const uint32_t *)(OUT_TOP - 36);
    uint32_t r[9] = {o[7], o[6], o[5], o[4], *(uint32_t *)OUT_ESP, o[2], o[1], o[0], o[8]};
    printf("ok ");
    print_regs(r);
    const uint16_t *sg = (const uint16_t *)OUT_SEGS;
    if (report_segs) printf(" G%x,%x,%x", sg[0], sg[1], sg[2]);
  }
  for (int i = 0; i < nreg; i++) {
    printf(" M");
    print_hex((const uint8_t *)reg[i].addr, reg[i].len);
  }
  if (have_target && !faulted) printf(" E%ld", *(volatile uint8_t *)WHICH_END == 2 ? target : ilen);
  putchar('\n');
}

int main(int argc, char **argv) {
  void *m = mmap((void *)ARENA, ARENA_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (m != (void *)ARENA) die("cannot map the fixed arena at 0x000ff000");
  build_recover();

  /* 16-bit data segment for the 0x67 forms (LDT entry 0). */
  struct user_desc d = {0};
  d.entry_number = 0;
  d.base_addr = SEG16_BASE;
  d.limit = 0xffff;
  d.seg_32bit = 0;
  d.contents = 0; /* data, expand-up */
  d.read_exec_only = 0;
  d.limit_in_pages = 0;
  d.seg_not_present = 0;
  d.useable = 1;
  ldt_ok = syscall(SYS_modify_ldt, 1, &d, sizeof d) == 0;
  /* 16-bit code segment for the `C` vectors (LDT entry 1): readable, limit 0xffff. */
  struct user_desc c = d;
  c.entry_number = 1;
  c.base_addr = CODE;
  c.contents = 2;
  ldt_ok = ldt_ok && syscall(SYS_modify_ldt, 1, &c, sizeof c) == 0;
  /* Expand-down 16-bit data segment for the `X` vectors (LDT entry 2): limit 0x7ff. */
  struct user_desc e = d;
  e.entry_number = 2;
  e.limit = 0x7ff;
  e.contents = 1; /* MODIFY_LDT_CONTENTS_STACK: expand-down data */
  ldt_ok = ldt_ok && syscall(SYS_modify_ldt, 1, &e, sizeof e) == 0;
  __asm__ volatile("mov %%cs, %0" : "=r"(flat_cs));
  __asm__ volatile("mov %%ss, %0" : "=r"(flat_ss));
  /* The segments of the `seg` vectors (LDT entries 3-11; Linux refuses conforming code). */
  static const struct { unsigned base, limit; int b32, contents, ro, pages, np, avl; } more[] = {
    {SEG16_BASE, 0xffff, 1, 0, 0, 0, 0, 1},                /* 3: 32-bit data (B = 1) */
    {WIN + 0x1000 - 0x10000, 0xffff, 0, 0, 0, 0, 0, 1},    /* 4: 16-bit stack, SP 0xf000+ in WIN */
    {SEG16_BASE, 0xffff, 0, 0, 1, 0, 0, 1},                /* 5: read-only data */
    {SEG16_BASE, 0x7ff, 1, 1, 0, 0, 0, 1},                 /* 6: expand-down, B = 1 */
    {SEG16_BASE, 0xffff, 1, 0, 0, 0, 1, 1},                /* 7: not present */
    {CODE, 0xffff, 1, 2, 1, 0, 0, 1},                      /* 8: execute-only code */
    {0, 0xfffff, 1, 2, 0, 1, 0, 0},                        /* 9: readable code, 4 GiB */
    {SEG16_BASE, 0x12, 0, 0, 0, 1, 0, 0},                  /* 10: data, limit 0x12 pages */
    {SEG16_BASE, 0x7ff, 0, 1, 1, 0, 0, 1},                 /* 11: read-only expand-down */
  };
  for (unsigned i = 0; ldt_ok && i < sizeof more / sizeof more[0]; i++) {
    struct user_desc u = d;
    u.entry_number = 3 + i;
    u.base_addr = more[i].base;
    u.limit = more[i].limit;
    u.seg_32bit = more[i].b32;
    u.contents = more[i].contents;
    u.read_exec_only = more[i].ro;
    u.limit_in_pages = more[i].pages;
    u.seg_not_present = more[i].np;
    u.useable = more[i].avl;
    if (syscall(SYS_modify_ldt, 1, &u, sizeof u) != 0) {
      fprintf(stderr, "runner: modify_ldt refused entry %u\n", 3 + i);
      ldt_ok = 0;
    }
  }
  *(uint16_t *)FLAT_SS_VAR = flat_ss;
  if (argc > 1 && strcmp(argv[1], "--ldt") == 0) {
    static uint8_t raw[16 * 8];
    long n = syscall(SYS_modify_ldt, 0, raw, sizeof raw);
    if (!ldt_ok || n <= 0) die("cannot read the LDT back");
    printf("cs %x ss %x\n", flat_cs, flat_ss);
    for (long i = 0; i < n; i += 8) { print_hex(raw + i, 8); putchar('\n'); }
    return 0;
  }

  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL)) die("sigaltstack failed");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL)) die("sigaction failed");

  static char line[1 << 16];
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin)) {
    if (line[0] == '\n' || line[0] == '#') { puts(""); continue; }
    run_line(line);
  }
  return 0;
}
