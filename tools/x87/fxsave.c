/*
 * Captures FXSAVE and FXRSTOR vectors on the host CPU (32-bit code: gcc -m32).
 *
 * "save" cases: FXRSTOR of a zeroed image (every register's contents 0), FNINIT, FLDCW with every exception masked, N values pushed (FLD m80),
 * FFREE of some registers, FINCSTP/FDECSTP, an FLDCW of the case's control word (which
 * may unmask the flags the loads raised: ES and B follow), then FXSAVE. Printed: the
 * x87 part of the image (bytes 0-5 and 32-159; the pointers and MXCSR are left out: the
 * pointers hold this process's addresses and MXCSR is SSE state).
 *
 * "rstor" cases: a 512-byte image with random FCW, FSW, abridged tag byte and register
 * contents (edge encodings of operand()), pointers 0, MXCSR 0x1f80; FXRSTOR, then FNSAVE.
 * Printed: the image's x87 part and the FNSAVE image (control, status and full tag words,
 * the registers in stack order).
 *
 *   gcc -m32 -O1 -o fxsave fxsave.c && ./fxsave SEED COUNT > fxsave.jsonl
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;
static uint64_t next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/* 80-bit images that hit the tag classes: zeros, denormals, pseudo-denormals, normals,
 * unnormals, infinities, NaNs, pseudo-NaNs and pseudo-infinities (integer bit clear). */
static void operand(uint8_t *b) {
  uint64_t top = 0x8000000000000000ull, r = next(), m;
  unsigned se = (unsigned)(next() & 0x8000);
  switch (next() % 10) {
  case 0: m = 0; break;
  case 1: m = r >> 1; break;
  case 2: m = top | (r >> 1); break;
  case 3: m = top | r; se |= 0x3fff + (unsigned)(next() % 64) - 32; break;
  case 4: m = r & ~top; se |= 1 + (unsigned)(next() % 0x7ffd); break;
  case 5: m = top; se |= 0x7fff; break;
  case 6: m = top | (r >> 1) | 1; se |= 0x7fff; break;
  case 7: m = (r >> 1) | 1; se |= 0x7fff; break;
  case 8: m = 0; se |= 0x7fff; break;
  default: m = top | r; se |= (unsigned)(next() % 0x7fff); break;
  }
  memcpy(b, &m, 8);
  b[8] = (uint8_t)se; b[9] = (uint8_t)(se >> 8);
}

static void hex(const char *key, const uint8_t *p, int n) {
  printf("\"%s\":\"", key);
  for (int i = 0; i < n; i++) printf("%02x", p[i]);
  printf("\"");
}

static uint8_t img[512] __attribute__((aligned(16)));
static uint8_t save[108];
static uint8_t vals[8][10];

static void saveCase(void) {
  int n = (int)(next() % 9), frees = (int)(next() & 0xff), rot = (int)(next() % 8);
  uint16_t cw = (uint16_t)((next() & 0x0f3f) | 0x40), cw0 = 0x37f;
  for (int i = 0; i < n; i++) operand(vals[i]);
  /* Every register's contents known (FNINIT empties the tags but keeps the contents):
   * FXRSTOR of a zeroed image (MXCSR 0x1f80 for the host's SSE) first. */
  memset(img, 0, sizeof img);
  img[24] = 0x80; img[25] = 0x1f;
  __asm__ volatile("fxrstor %0" :: "m"(img));
  memset(img, 0xa5, sizeof img);
  __asm__ volatile("fninit; fldcw %0" :: "m"(cw0));
  for (int i = 0; i < n; i++) __asm__ volatile("fldt %0" :: "m"(vals[i]));
  for (int i = 0; i < 8; i++) {
    if (!(frees & (1 << i))) continue;
    switch (i) {
    case 0: __asm__ volatile("ffree %st(0)"); break;
    case 1: __asm__ volatile("ffree %st(1)"); break;
    case 2: __asm__ volatile("ffree %st(2)"); break;
    case 3: __asm__ volatile("ffree %st(3)"); break;
    default: break;
    }
  }
  for (int i = 0; i < rot; i++) __asm__ volatile("fincstp");
  __asm__ volatile("fldcw %0; fxsave %1; fnclex; fninit" :: "m"(cw), "m"(img) : "memory");
  printf("{\"op\":\"save\",\"n\":%d,\"frees\":%d,\"rot\":%d,\"cw\":%u,", n, frees & 15, rot, cw);
  printf("\"vals\":\"");
  for (int i = 0; i < n; i++) for (int j = 0; j < 10; j++) printf("%02x", vals[i][j]);
  printf("\",");
  hex("head", img, 6); printf(","); hex("regs", img + 32, 128); printf("}\n");
}

static void rstorCase(void) {
  memset(img, 0, sizeof img);
  uint16_t cw = (uint16_t)((next() & 0x1f3f) | 0x40), sw = (uint16_t)next();
  img[0] = (uint8_t)cw; img[1] = (uint8_t)(cw >> 8);
  img[2] = (uint8_t)sw; img[3] = (uint8_t)(sw >> 8);
  img[4] = (uint8_t)next();
  img[24] = 0x80; img[25] = 0x1f; /* MXCSR 0x1f80 (the host has SSE) */
  for (int i = 0; i < 8; i++) operand(img + 32 + 16 * i);
  __asm__ volatile("fxrstor %1; fnsave %0; fninit" : "=m"(save) : "m"(img) : "memory");
  printf("{\"op\":\"rstor\",");
  hex("head", img, 6); printf(","); hex("regs", img + 32, 128); printf(",");
  hex("fnsave", save, 108); printf("}\n");
}

int main(int argc, char **argv) {
  rng = argc > 1 ? strtoull(argv[1], 0, 0) : 1;
  int count = argc > 2 ? atoi(argv[2]) : 100;
  char model[256] = "unknown";
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      if (!strncmp(line, "model name", 10)) {
        char *c = strchr(line, ':');
        if (c) { snprintf(model, sizeof model, "%s", c + 2); model[strcspn(model, "\n")] = 0; }
        break;
      }
    }
    fclose(f);
  }
  printf("{\"count\":%d,\"seed\":\"%s\",\"cpu\":{\"modelName\":\"%s\"}}\n", 2 * count,
    argc > 1 ? argv[1] : "1", model);
  for (int i = 0; i < count; i++) { saveCase(); rstorCase(); }
  return 0;
}
