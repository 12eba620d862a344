/*
 * Captures x87 test vectors on the host CPU (32-bit code: gcc -m32). For each case: the
 * control word (every rounding and precision control, exceptions masked), the operands as
 * 80-bit extended values (ST0 = a, ST1 = b) or memory images, the instruction, and what
 * the CPU left: ST0 (and ST1 where the instruction writes it) as 80-bit images, the memory
 * an instruction stored, and the status word (exception flags, C0-C3, TOP).
 *
 *   gcc -m32 -O1 -o capture capture.c && ./capture SEED COUNT > x87.jsonl
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint8_t b[10]; } f80;

static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

static f80 mk(int sign, unsigned exp, uint64_t mant) {
  f80 v;
  memcpy(v.b, &mant, 8);
  uint16_t se = (uint16_t)((sign << 15) | (exp & 0x7fff));
  memcpy(v.b + 8, &se, 2);
  return v;
}

/* An operand chosen to hit the edges: zeros, denormals, pseudo-denormals, the smallest and
 * largest normals, infinities, quiet and signalling NaNs, the indefinite, unnormals, values
 * near rounding boundaries (mantissas ending in ..0111, ..1000, ..1001 at bits 11 and 40),
 * small integers, and random normals over the whole and a narrow exponent range. */
static f80 operand(void) {
  int s = (int)(next() & 1);
  uint64_t r = next();
  uint64_t top = 0x8000000000000000ull;
  switch (next() % 24) {
  case 0: return mk(s, 0, 0);
  case 1: return mk(s, 0, r >> 1);                           /* denormal */
  case 2: return mk(s, 0, top | (r >> 1));                   /* pseudo-denormal */
  case 3: return mk(s, 1, top | ((r >> 1) & 0xff));
  case 4: return mk(s, 0x7ffe, ~0ull);
  case 5: return mk(s, 0x7fff, top);                         /* infinity */
  case 6: return mk(s, 0x7fff, top | 0x4000000000000000ull | (r >> 2)); /* QNaN */
  case 7: return mk(s, 0x7fff, top | ((r >> 2) | 1));        /* SNaN */
  case 8: return mk(1, 0x7fff, 0xc000000000000000ull);       /* indefinite */
  case 9: return mk(s, 0x3fff + (unsigned)(next() % 64), r & ~top); /* unnormal */
  case 10: case 11: {                                          /* rounding boundaries */
    uint64_t m = top | (r & 0x7fffffffffffffffull);
    int at = (next() & 1) ? 11 : 40;                         /* f64 and f32 boundaries */
    uint64_t low = (1ull << at) - 1, pat[3] = { low >> 1, (low >> 1) + 1, (low >> 1) + 2 };
    m = (m & ~low) | pat[next() % 3];
    return mk(s, 0x3fff + (unsigned)(next() % 16) - 8, m);
  }
  case 12: case 13: {                                        /* small integers */
    uint64_t n = (next() % 2000) + 1;
    int e = 63;
    while (!(n & (1ull << e))) e--;
    return mk(s, 0x3fff + (unsigned)e, n << (63 - e));
  }
  case 14: return mk(s, 0x3fff + (unsigned)(next() % 130) - 65, top | (r >> 1));
  case 15: return mk(s, 0x3c01 + (unsigned)(next() % 8), top | (r >> 1)); /* f64 min */
  case 16: return mk(s, 0x3f81 + (unsigned)(next() % 8) - 4, top | (r >> 1)); /* f32 min */
  case 17: return mk(s, 0x43fe - (unsigned)(next() % 4), top | (r >> 1)); /* f64 max */
  case 18: return mk(s, 0x407e - (unsigned)(next() % 4), top | (r >> 1)); /* f32 max */
  case 19: return mk(s, 0x403e - (unsigned)(next() % 4), top | (r >> 1)); /* int64 edge */
  default: return mk(s, 1 + (unsigned)(next() % 0x7ffe), top | (r >> 1));
  }
}

static void hex(const uint8_t *p, int n) {
  putchar('"');
  for (int i = n - 1; i >= 0; i--) printf("%02x", p[i]);
  putchar('"');
}

/* Two-operand forms: ST0 = a, ST1 = b, op, then ST0 and ST1 stored. */
#define OP2(name, insn)                                                                \
  static void name(uint16_t cw, f80 *a, f80 *b, f80 *r0, f80 *r1, uint16_t *sw) {     \
    __asm__ volatile("fninit\n\tfldcw %5\n\tfldt %4\n\tfldt %3\n\t" insn "\n\t"        \
                     "fnstsw %2\n\tfstpt %0\n\tfstpt %1\n\tfninit"                     \
                     : "=m"(*r0), "=m"(*r1), "=m"(*sw)                                 \
                     : "m"(*a), "m"(*b), "m"(cw));                                     \
  }
OP2(op_fadd, "fadd %%st(1), %%st")
OP2(op_fsub, "fsub %%st(1), %%st")
OP2(op_fsubr, "fsubr %%st(1), %%st")
OP2(op_fmul, "fmul %%st(1), %%st")
OP2(op_fdiv, "fdiv %%st(1), %%st")
OP2(op_fdivr, "fdivr %%st(1), %%st")
OP2(op_fprem, "fprem")
OP2(op_fprem1, "fprem1")
OP2(op_fscale, "fscale")
OP2(op_fsqrt, "fsqrt")
OP2(op_frndint, "frndint")
OP2(op_fabs, "fabs")
OP2(op_fchs, "fchs")
OP2(op_fxam, "fxam")
OP2(op_fcom, "fcom %%st(1)")
OP2(op_fucom, "fucom %%st(1)")
OP2(op_ftst, "ftst")
OP2(op_fxtract, "fxtract\n\tfxch %%st(2)\n\tfstp %%st(0)")

/* Loads: the memory operand is pushed; ST0 stored. */
#define LOAD(name, insn, T)                                                            \
  static void name(uint16_t cw, const void *m, f80 *r0, uint16_t *sw) {               \
    T v; memcpy(&v, m, sizeof v);                                                      \
    __asm__ volatile("fninit\n\tfldcw %3\n\t" insn " %2\n\tfnstsw %1\n\tfstpt %0\n\t"  \
                     "fninit" : "=m"(*r0), "=m"(*sw) : "m"(v), "m"(cw));               \
  }
LOAD(ld_f32, "flds", uint32_t)
LOAD(ld_f64, "fldl", uint64_t)
LOAD(ld_i16, "filds", uint16_t)
LOAD(ld_i32, "fildl", uint32_t)
LOAD(ld_i64, "fildll", uint64_t)
LOAD(ld_bcd, "fbld", f80)

/* Stores: ST0 = a is stored to memory (popping forms pop it). */
#define STORE(name, insn, T)                                                           \
  static void name(uint16_t cw, f80 *a, void *m, uint16_t *sw) {                      \
    T v; memset(&v, 0xa5, sizeof v);                                                   \
    __asm__ volatile("fninit\n\tfldcw %3\n\tfldt %2\n\t" insn " %0\n\tfnstsw %1\n\t"   \
                     "fninit" : "+m"(v), "=m"(*sw) : "m"(*a), "m"(cw));                \
    memcpy(m, &v, sizeof v);                                                           \
  }
STORE(st_f32, "fstps", uint32_t)
STORE(st_f64, "fstpl", uint64_t)
STORE(st_i16, "fistps", uint16_t)
STORE(st_i32, "fistpl", uint32_t)
STORE(st_i64, "fistpll", uint64_t)
STORE(st_bcd, "fbstp", f80)

typedef void (*op2_fn)(uint16_t, f80 *, f80 *, f80 *, f80 *, uint16_t *);
static const struct { const char *name; op2_fn fn; int unary; } OPS2[] = {
  { "fadd", op_fadd, 0 }, { "fsub", op_fsub, 0 }, { "fsubr", op_fsubr, 0 },
  { "fmul", op_fmul, 0 }, { "fdiv", op_fdiv, 0 }, { "fdivr", op_fdivr, 0 },
  { "fprem", op_fprem, 0 }, { "fprem1", op_fprem1, 0 }, { "fscale", op_fscale, 0 },
  { "fsqrt", op_fsqrt, 1 }, { "frndint", op_frndint, 1 }, { "fabs", op_fabs, 1 },
  { "fchs", op_fchs, 1 }, { "fxam", op_fxam, 1 }, { "fcom", op_fcom, 0 },
  { "fucom", op_fucom, 0 }, { "ftst", op_ftst, 1 }, { "fxtract", op_fxtract, 1 },
};
typedef void (*ld_fn)(uint16_t, const void *, f80 *, uint16_t *);
static const struct { const char *name; ld_fn fn; int bytes; } LOADS[] = {
  { "fld_m32", ld_f32, 4 }, { "fld_m64", ld_f64, 8 }, { "fild_m16", ld_i16, 2 },
  { "fild_m32", ld_i32, 4 }, { "fild_m64", ld_i64, 8 }, { "fbld", ld_bcd, 10 },
};
typedef void (*st_fn)(uint16_t, f80 *, void *, uint16_t *);
static const struct { const char *name; st_fn fn; int bytes; } STORES[] = {
  { "fstp_m32", st_f32, 4 }, { "fstp_m64", st_f64, 8 }, { "fistp_m16", st_i16, 2 },
  { "fistp_m32", st_i32, 4 }, { "fistp_m64", st_i64, 8 }, { "fbstp", st_bcd, 10 },
};
#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

/* A memory operand for a load: random bits, or a value of the format's edges. */
static void load_operand(int bytes, uint8_t *m) {
  uint64_t r = next();
  memcpy(m, &r, bytes < 8 ? bytes : 8);
  if (bytes == 10) {                                       /* packed BCD, sometimes invalid */
    for (int i = 0; i < 9; i++) {
      unsigned d = (unsigned)(next() % 100);
      m[i] = (uint8_t)(((d / 10) << 4) | (d % 10));
    }
    m[9] = (next() & 1) ? 0x80 : 0;
    if (next() % 8 == 0) m[next() % 9] |= 0xa0;
    return;
  }
  if (next() % 3 == 0 && bytes >= 4) {                     /* special exponents */
    int eb = bytes == 4 ? 8 : 11, mb = bytes == 4 ? 23 : 52;
    uint64_t v = r & ((1ull << mb) - 1);
    uint64_t e = (next() & 1) ? ((1ull << eb) - 1) : 0;
    v |= e << mb;
    v |= (uint64_t)(next() & 1) << (mb + eb);
    memcpy(m, &v, bytes);
  }
}


/* ---- Set 2: unmasked exceptions, memory operands, FCOMI/FCMOV, constants, the stack ---- */

/* Two operands with any control word: after the instruction FNSTSW, then FNCLEX so that
 * storing the results raises no pending exception. */
#define OPU(name, insn) OPU2(name, insn, "")
#define OPU2(name, insn, after)                                                        \
  static void name(uint16_t cw, f80 *a, f80 *b, f80 *r0, f80 *r1, uint16_t *sw) {     \
    __asm__ volatile("fninit\n\tfldcw %5\n\tfldt %4\n\tfldt %3\n\t" insn "\n\t"        \
                     "fnstsw %2\n\tfnclex\n\t" after "\n\tfstpt %0\n\tfstpt %1\n\tfninit" \
                     : "+m"(*r0), "+m"(*r1), "=m"(*sw)                                 \
                     : "m"(*a), "m"(*b), "m"(cw));                                     \
  }
OPU(u_fadd, "fadd %%st(1), %%st")
OPU(u_fsub, "fsub %%st(1), %%st")
OPU(u_fmul, "fmul %%st(1), %%st")
OPU(u_fdiv, "fdiv %%st(1), %%st")
OPU(u_fsqrt, "fsqrt")
OPU(u_fscale, "fscale")
OPU(u_fprem, "fprem")
OPU(u_frndint, "frndint")
OPU(u_fxtract, "fxtract")
OPU2(u_faddp, "faddp %%st, %%st(1)", "fld1")
OPU2(u_fsubp, "fsubp %%st, %%st(1)", "fld1")
OPU2(u_fdivrp, "fdivrp %%st, %%st(1)", "fld1")
OPU2(u_fcompp, "fcompp", "fld1\n\tfld1")
OPU2(u_fucompp, "fucompp", "fld1\n\tfld1")
OPU(u_fsin, "fsin")
OPU(u_fcos, "fcos")
OPU(u_fptan, "fptan")
OPU2(u_fpatan, "fpatan", "fld1")
OPU(u_f2xm1, "f2xm1")
OPU2(u_fyl2x, "fyl2x", "fld1")
OPU2(u_fyl2xp1, "fyl2xp1", "fld1")
OPU(u_fsincos, "fsincos")

/* ST(0) = a op memory; then the status word and ST(0). */
#define OPM(name, insn, T)                                                             \
  static void name(uint16_t cw, f80 *a, const void *m, f80 *r0, uint16_t *sw) {       \
    T v; memcpy(&v, m, sizeof v);                                                      \
    __asm__ volatile("fninit\n\tfldcw %4\n\tfldt %2\n\t" insn " %3\n\tfnstsw %1\n\t"   \
                     "fnclex\n\tfstpt %0\n\tfninit"                                    \
                     : "+m"(*r0), "=m"(*sw) : "m"(*a), "m"(v), "m"(cw));               \
  }
OPM(m_fadd32, "fadds", uint32_t)
OPM(m_fmul64, "fmull", uint64_t)
OPM(m_fsub32, "fsubs", uint32_t)
OPM(m_fdivr64, "fdivrl", uint64_t)
OPM(m_fiadd16, "fiadds", uint16_t)
OPM(m_fisub32, "fisubl", uint32_t)
OPM(m_fimul32, "fimull", uint32_t)
OPM(m_fidiv16, "fidivs", uint16_t)
OPM(m_fidivr32, "fidivrl", uint32_t)
OPM(m_fcom32, "fcoms", uint32_t)
OPM(m_fcomp64, "fcompl", uint64_t)
OPM(m_ficom32, "ficoml", uint32_t)

/* FCOMI family: EFLAGS after the comparison (ZF, PF, CF; others as before: 0x202). */
#define OPF(name, insn)                                                                \
  static void name(uint16_t cw, f80 *a, f80 *b, f80 *r0, uint32_t *fl, uint16_t *sw) {\
    __asm__ volatile("fninit\n\tfldcw %5\n\tfldt %4\n\tfldt %3\n\tpushl $0x202\n\t"    \
                     "popfl\n\t" insn "\n\tpushfl\n\tpopl %1\n\tfnstsw %2\n\tfnclex\n\t"\
                     "fstpt %0\n\tfninit"                                              \
                     : "+m"(*r0), "=m"(*fl), "=m"(*sw)                                 \
                     : "m"(*a), "m"(*b), "m"(cw) : "cc");                              \
  }
OPF(f_fcomi, "fcomi %%st(1), %%st")
OPF(f_fucomi, "fucomi %%st(1), %%st")
OPF(f_fcomip, "fcomip %%st(1), %%st")
OPF(f_fucomip, "fucomip %%st(1), %%st")

/* FCMOVcc with EFLAGS preset from `fl` (CF, PF, ZF). */
#define OPC(name, insn)                                                                \
  static void name(uint16_t cw, f80 *a, f80 *b, f80 *r0, uint32_t *fl, uint16_t *sw) {\
    uint32_t in = *fl;                                                                 \
    __asm__ volatile("fninit\n\tfldcw %5\n\tfldt %4\n\tfldt %3\n\tpushl %6\n\t"        \
                     "popfl\n\t" insn "\n\tfnstsw %2\n\tfnclex\n\tfstpt %0\n\tfninit"  \
                     : "+m"(*r0), "=m"(*fl), "=m"(*sw)                                 \
                     : "m"(*a), "m"(*b), "m"(cw), "r"(in) : "cc");                     \
  }
OPC(c_fcmovb, "fcmovb %%st(1), %%st")
OPC(c_fcmove, "fcmove %%st(1), %%st")
OPC(c_fcmovbe, "fcmovbe %%st(1), %%st")
OPC(c_fcmovu, "fcmovu %%st(1), %%st")
OPC(c_fcmovnb, "fcmovnb %%st(1), %%st")
OPC(c_fcmovne, "fcmovne %%st(1), %%st")
OPC(c_fcmovnbe, "fcmovnbe %%st(1), %%st")
OPC(c_fcmovnu, "fcmovnu %%st(1), %%st")

/* Constants under the control word; and the stack: eight pushes then one more (overflow),
 * or an operation on an empty register (underflow). */
#define OPK(name, insn) OPK2(name, insn, "")
#define OPK2(name, insn, after)                                                        \
  static void name(uint16_t cw, f80 *a, f80 *b, f80 *r0, f80 *r1, uint16_t *sw) {     \
    (void)b;                                                                           \
    __asm__ volatile("fninit\n\tfldcw %4\n\t" insn "\n\tfnstsw %2\n\tfnclex\n\t"       \
                     after "\n\tfstpt %0\n\tfstpt %1\n\tfninit"                      \
                     : "+m"(*r0), "+m"(*r1), "=m"(*sw) : "m"(*a), "m"(cw));            \
  }
OPK(k_fldpi, "fld1\n\tfldpi")
OPK(k_fldl2t, "fld1\n\tfldl2t")
OPK(k_fldl2e, "fld1\n\tfldl2e")
OPK(k_fldlg2, "fld1\n\tfldlg2")
OPK(k_fldln2, "fld1\n\tfldln2")
OPK(k_overflow, "fld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfldt %3")
OPK2(k_underflow, "fldt %3\n\tfadd %%st(2), %%st", "fld1")
OPK2(k_fxch_empty, "fldt %3\n\tfxch %%st(3)", "fld1")
OPK2(k_fst_empty, "fldt %3\n\tfincstp\n\tfst %%st(1)", "fdecstp")

static const struct { const char *name; op2_fn fn; } OPSU[] = {
  { "u_fadd", u_fadd }, { "u_fsub", u_fsub }, { "u_fmul", u_fmul }, { "u_fdiv", u_fdiv },
  { "u_fsqrt", u_fsqrt }, { "u_fscale", u_fscale }, { "u_fprem", u_fprem },
  { "u_frndint", u_frndint }, { "u_fxtract", u_fxtract }, { "u_faddp", u_faddp },
  { "u_fsubp", u_fsubp }, { "u_fdivrp", u_fdivrp }, { "u_fcompp", u_fcompp },
  { "u_fucompp", u_fucompp }, { "u_fsin", u_fsin }, { "u_fcos", u_fcos },
  { "u_fptan", u_fptan }, { "u_fpatan", u_fpatan }, { "u_f2xm1", u_f2xm1 },
  { "u_fyl2x", u_fyl2x }, { "u_fyl2xp1", u_fyl2xp1 }, { "u_fsincos", u_fsincos },
  { "k_fldpi", k_fldpi }, { "k_fldl2t", k_fldl2t }, { "k_fldl2e", k_fldl2e },
  { "k_fldlg2", k_fldlg2 }, { "k_fldln2", k_fldln2 }, { "k_overflow", k_overflow },
  { "k_underflow", k_underflow }, { "k_fxch_empty", k_fxch_empty },
  { "k_fst_empty", k_fst_empty },
};
typedef void (*opm_fn)(uint16_t, f80 *, const void *, f80 *, uint16_t *);
static const struct { const char *name; opm_fn fn; int bytes; int isint; } OPSM[] = {
  { "m_fadd32", m_fadd32, 4, 0 }, { "m_fmul64", m_fmul64, 8, 0 },
  { "m_fsub32", m_fsub32, 4, 0 }, { "m_fdivr64", m_fdivr64, 8, 0 },
  { "m_fiadd16", m_fiadd16, 2, 1 }, { "m_fisub32", m_fisub32, 4, 1 },
  { "m_fimul32", m_fimul32, 4, 1 }, { "m_fidiv16", m_fidiv16, 2, 1 },
  { "m_fidivr32", m_fidivr32, 4, 1 }, { "m_fcom32", m_fcom32, 4, 0 },
  { "m_fcomp64", m_fcomp64, 8, 0 }, { "m_ficom32", m_ficom32, 4, 1 },
};
typedef void (*opf_fn)(uint16_t, f80 *, f80 *, f80 *, uint32_t *, uint16_t *);
static const struct { const char *name; opf_fn fn; } OPSF[] = {
  { "f_fcomi", f_fcomi }, { "f_fucomi", f_fucomi }, { "f_fcomip", f_fcomip },
  { "f_fucomip", f_fucomip }, { "c_fcmovb", c_fcmovb }, { "c_fcmove", c_fcmove },
  { "c_fcmovbe", c_fcmovbe }, { "c_fcmovu", c_fcmovu }, { "c_fcmovnb", c_fcmovnb },
  { "c_fcmovne", c_fcmovne }, { "c_fcmovnbe", c_fcmovnbe }, { "c_fcmovnu", c_fcmovnu },
};

/* Operands for the transcendental instructions: mostly in their domains. */
static f80 small_operand(void) {
  if (next() % 3 == 0) return operand();
  int s = (int)(next() & 1);
  return mk(s, 0x3fff - 40 + (unsigned)(next() % 44), 0x8000000000000000ull | (next() >> 1));
}

static void set2(long count) {
  int kinds = N(OPSU) + N(OPSM) + N(OPSF);
  for (long i = 0; i < count; i++) {
    int k = (int)(next() % (uint64_t)kinds);
    /* Any mask bits, precision and rounding control (bit 6 reserved, set). */
    uint16_t cw = (uint16_t)(0x0040 | (next() & 0x3f) | ((next() % 4) << 8) | ((next() % 4) << 10));
    if (next() % 3 == 0) cw |= 0x3f;
    uint16_t sw = 0;
    printf("{\"op\":");
    if (k < N(OPSU)) {
      int trans = OPSU[k].name[0] == 'u' && strchr("fsin fcos fptan fpatan f2xm1 fyl2x "
        "fyl2xp1 fsincos", 0) == 0;
      (void)trans;
      int tr = strstr("u_fsin u_fcos u_fptan u_fpatan u_f2xm1 u_fyl2x u_fyl2xp1 u_fsincos",
                      OPSU[k].name) != 0;
      f80 a = tr ? small_operand() : operand(), b = tr ? small_operand() : operand(), r0, r1;
      memset(&r0, 0xa5, sizeof r0); memset(&r1, 0xa5, sizeof r1);
      if (getenv("X87_TRACE")) fprintf(stderr, "%s cw=%x\n", OPSU[k].name, cw);
      OPSU[k].fn(cw, &a, &b, &r0, &r1, &sw);
      printf("\"%s\",\"cw\":%u,\"a\":", OPSU[k].name, cw); hex(a.b, 10);
      printf(",\"b\":"); hex(b.b, 10);
      printf(",\"r0\":"); hex(r0.b, 10);
      printf(",\"r1\":"); hex(r1.b, 10);
    } else if (k < N(OPSU) + N(OPSM)) {
      int j = k - N(OPSU);
      uint8_t m[10];
      f80 a = operand(), r0;
      memset(&r0, 0xa5, sizeof r0);
      load_operand(OPSM[j].bytes, m);
      if (OPSM[j].isint && next() % 2) { /* small integers too */
        uint32_t v = (uint32_t)(next() % 2000) - 1000; memcpy(m, &v, OPSM[j].bytes);
      }
      if (getenv("X87_TRACE")) fprintf(stderr, "%s cw=%x\n", OPSM[j].name, cw);
      OPSM[j].fn(cw, &a, m, &r0, &sw);
      printf("\"%s\",\"cw\":%u,\"a\":", OPSM[j].name, cw); hex(a.b, 10);
      printf(",\"m\":"); hex(m, OPSM[j].bytes);
      printf(",\"r0\":"); hex(r0.b, 10);
    } else {
      int j = k - N(OPSU) - N(OPSM);
      f80 a = operand(), b = operand(), r0;
      memset(&r0, 0xa5, sizeof r0);
      uint32_t fl = 0x202 | (uint32_t)(next() & 1) | (uint32_t)((next() & 1) << 2) |
                    (uint32_t)((next() & 1) << 6);
      uint32_t in = fl;
      if (getenv("X87_TRACE")) fprintf(stderr, "%s cw=%x\n", OPSF[j].name, cw);
      OPSF[j].fn(cw, &a, &b, &r0, &fl, &sw);
      printf("\"%s\",\"cw\":%u,\"a\":", OPSF[j].name, cw); hex(a.b, 10);
      printf(",\"b\":"); hex(b.b, 10);
      printf(",\"r0\":"); hex(r0.b, 10);
      printf(",\"fin\":%u,\"fl\":%u", in, fl);
    }
    printf(",\"sw\":%u}\n", sw);
  }
}

/* ---- Set 3: the environment and state images, FNOP/FENI/FDISI/FSETPM, FFREE(P), FUCOMP and
 * the undocumented aliases. Four values are loaded (a, b, a, b), then the instruction, then
 * FNSTSW and FNSAVE (108 bytes: the 32-bit protected-mode image, SDM vol. 1, figure 8-9/8-11).
 * The instruction and data pointers in the image are the capture's addresses: the test
 * compares everything else. */
#define OP3(name, insn)                                                                \
  static void name(uint16_t cw, f80 *a, f80 *b, uint8_t *img, uint16_t *sw) {          \
    __asm__ volatile("fninit\n\tfldcw %4\n\tfldt %3\n\tfldt %2\n\tfldt %3\n\tfldt %2\n\t" \
                     insn "\n\tfnstsw %1\n\tfnsave %0\n\tfninit"                       \
                     : "=m"(*(uint8_t (*)[108])img), "=m"(*sw), "+m"(*a)               \
                     : "m"(*b), "m"(cw));                                              \
  }
OP3(s_fnop, "fnop")
OP3(s_feni, ".byte 0xdb, 0xe0")
OP3(s_fdisi, ".byte 0xdb, 0xe1")
OP3(s_fsetpm, ".byte 0xdb, 0xe4")
OP3(s_ffree, "ffree %%st(2)")
OP3(s_ffreep, ".byte 0xdf, 0xc1")
OP3(s_fxch4, ".byte 0xdd, 0xca")
OP3(s_fxch7, ".byte 0xdf, 0xcb")
OP3(s_fstp1, ".byte 0xd9, 0xda")
OP3(s_fstp8, ".byte 0xdf, 0xd1")
OP3(s_fstp9, ".byte 0xdf, 0xda")
OP3(s_fcom2, ".byte 0xdc, 0xd1")
OP3(s_fcomp3, ".byte 0xdc, 0xda")
OP3(s_fcomp5, ".byte 0xde, 0xd3")
OP3(s_fucomp, "fucomp %%st(2)")
OP3(s_fincstp, "fincstp\n\tfincstp")
OP3(s_fclex, "fdiv %%st(7), %%st\n\tfnclex")
OP3(s_fzdivr, "fldz\n\tfld1\n\tfdivp")
OP3(s_fmulp, ".byte 0xde, 0xca")
OP3(s_fsubp, ".byte 0xde, 0xea")
OP3(s_ficomp, "ficomps %2")
OP3(s_fisubr, "fisubrs %2")
OP3(s_fist, "fistl %2\n\tfildl %2")
OP3(s_fst, "fsts %2\n\tflds %2")
static const struct { const char *name; void (*fn)(uint16_t, f80 *, f80 *, uint8_t *,
  uint16_t *); } OPS3[] = {
  { "s_fnop", s_fnop }, { "s_feni", s_feni }, { "s_fdisi", s_fdisi }, { "s_fsetpm", s_fsetpm },
  { "s_ffree", s_ffree }, { "s_ffreep", s_ffreep }, { "s_fxch4", s_fxch4 },
  { "s_fxch7", s_fxch7 }, { "s_fstp1", s_fstp1 }, { "s_fstp8", s_fstp8 },
  { "s_fstp9", s_fstp9 }, { "s_fcom2", s_fcom2 }, { "s_fcomp3", s_fcomp3 },
  { "s_fcomp5", s_fcomp5 }, { "s_fucomp", s_fucomp }, { "s_fincstp", s_fincstp },
  { "s_fclex", s_fclex }, { "s_fzdivr", s_fzdivr }, { "s_fmulp", s_fmulp },
  { "s_fsubp", s_fsubp }, { "s_ficomp", s_ficomp }, { "s_fisubr", s_fisubr },
  { "s_fist", s_fist }, { "s_fst", s_fst },
};

/* FRSTOR of a state image then FNSTENV and FNSTCW (the image loaded, the environment read
 * back), and FLDENV of the same environment then FNSAVE. */
static void restore(uint8_t *in, uint8_t *env, uint16_t *cw, uint8_t *out) {
  __asm__ volatile("fninit\n\tfrstor %3\n\tfnstenv %0\n\tfnstcw %1\n\tfninit\n\t"
                   "fldenv %0\n\tfnsave %2\n\tfninit"
                   : "+m"(*(uint8_t (*)[28])env), "=m"(*cw), "=m"(*(uint8_t (*)[108])out)
                   : "m"(*(uint8_t (*)[108])in));
}

static void set3(long count) {
  for (long i = 0; i < count; i++) {
    uint16_t sw = 0;
    uint8_t img[108];
    memset(img, 0xa5, sizeof img);
    if (i % 4 == 3) {
      /* A random image: control word masked (no pending exception on FLDENV), random tags
       * and TOP, random register contents. */
      for (int k = 0; k < 108; k++) img[k] = (uint8_t)next();
      uint16_t cw = (uint16_t)(0x3f | (next() & 0x0f00));
      uint16_t swv = (uint16_t)(next() & 0x3f40 & ~0x80);
      memcpy(img, &cw, 2); memcpy(img + 4, &swv, 2);
      uint8_t env[28], out[108];
      uint16_t cwo = 0;
      memset(env, 0, sizeof env);
      restore(img, env, &cwo, out);
      printf("{\"op\":\"s_frstor\",\"in\":");
      hex(img, 108); printf(",\"env\":"); hex(env, 28); printf(",\"cw\":%u,\"out\":", cwo);
      hex(out, 108); printf("}\n");
      continue;
    }
    int k = (int)(next() % (uint64_t)N(OPS3));
    uint16_t cw = (uint16_t)(0x0040 | 0x3f | ((next() % 4) << 8) | ((next() % 4) << 10));
    f80 a = operand(), b = operand(), a0 = a;
    OPS3[k].fn(cw, &a, &b, img, &sw);
    printf("{\"op\":\"%s\",\"cw\":%u,\"a\":", OPS3[k].name, cw); hex(a0.b, 10);
    printf(",\"b\":"); hex(b.b, 10);
    printf(",\"img\":"); hex(img, 108);
    printf(",\"sw\":%u}\n", sw);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: capture SEED COUNT\n"); return 2; }
  rng = strtoull(argv[1], 0, 0) | 1;
  long count = strtol(argv[2], 0, 0);
  if (argc > 3 && !strcmp(argv[3], "set2")) { set2(count); return 0; }
  if (argc > 3 && !strcmp(argv[3], "set3")) { set3(count); return 0; }
  int kinds = N(OPS2) + N(LOADS) + N(STORES);
  for (long i = 0; i < count; i++) {
    int k = (int)(next() % (uint64_t)kinds);
    /* Exceptions masked (bits 5:0), precision control 11:10, rounding control 9:8. */
    uint16_t cw = (uint16_t)(0x003f | ((next() % 4) << 8) | ((next() % 4) << 10));
    if (next() % 4 == 0) cw = 0x037f;                      /* the default: 64 bits, nearest */
    uint16_t sw = 0;
    printf("{\"op\":");
    if (k < N(OPS2)) {
      f80 a = operand(), b = operand(), r0, r1;
      OPS2[k].fn(cw, &a, &b, &r0, &r1, &sw);
      printf("\"%s\",\"cw\":%u,\"a\":", OPS2[k].name, cw); hex(a.b, 10);
      if (!OPS2[k].unary) { printf(",\"b\":"); hex(b.b, 10); }
      printf(",\"r0\":"); hex(r0.b, 10);
      if (!OPS2[k].unary || !strcmp(OPS2[k].name, "fxtract")) {
        printf(",\"r1\":"); hex(r1.b, 10);
      }
    } else if (k < N(OPS2) + N(LOADS)) {
      int j = k - N(OPS2);
      uint8_t m[10];
      f80 r0;
      load_operand(LOADS[j].bytes, m);
      LOADS[j].fn(cw, m, &r0, &sw);
      printf("\"%s\",\"cw\":%u,\"m\":", LOADS[j].name, cw); hex(m, LOADS[j].bytes);
      printf(",\"r0\":"); hex(r0.b, 10);
    } else {
      int j = k - N(OPS2) - N(LOADS);
      f80 a = operand();
      uint8_t m[10];
      STORES[j].fn(cw, &a, m, &sw);
      printf("\"%s\",\"cw\":%u,\"a\":", STORES[j].name, cw); hex(a.b, 10);
      printf(",\"m\":"); hex(m, STORES[j].bytes);
    }
    printf(",\"sw\":%u}\n", sw);
  }
  return 0;
}
