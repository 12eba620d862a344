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

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: capture SEED COUNT\n"); return 2; }
  rng = strtoull(argv[1], 0, 0) | 1;
  long count = strtol(argv[2], 0, 0);
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
