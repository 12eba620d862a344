/* Formatting and string helpers, linked into both the kernel and the user programs. */
#include "fmt.h"

u32 divmod64(u64 *n, u32 d) {
  u32 hi = (u32)(*n >> 32), lo = (u32)*n;
  u32 qhi = hi / d, r = hi % d, qlo;
  /* DIV r:lo by d; r < d, so the quotient fits in 32 bits (no #DE). */
  __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
  *n = ((u64)qhi << 32) | qlo;
  return r;
}

struct out { char *buf; int size, len; };

static void put(struct out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void put_num(struct out *o, u64 v, u32 base, int width, char pad, int neg) {
  char tmp[24];
  int n = 0;
  do {
    u32 r = divmod64(&v, base);
    tmp[n++] = (char)(r < 10 ? '0' + r : 'a' + r - 10);
  } while (v != 0);
  if (neg) tmp[n++] = '-';
  while (n < width) { put(o, pad); width--; }
  while (n > 0) put(o, tmp[--n]);
}

int vfmt(char *buf, int size, const char *f, va_list ap) {
  struct out o = { buf, size, 0 };
  for (; *f; f++) {
    if (*f != '%') { put(&o, *f); continue; }
    f++;
    char pad = ' ';
    int width = 0, longs = 0;
    if (*f == '0') { pad = '0'; f++; }
    while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
    while (*f == 'l') { longs++; f++; }
    switch (*f) {
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (!s) s = "(null)";
      int len = (int)strlen(s);
      while (len < width) { put(&o, ' '); width--; }
      while (*s) put(&o, *s++);
      break;
    }
    case 'c': put(&o, (char)va_arg(ap, int)); break;
    case 'd': {
      i64 v = longs >= 2 ? va_arg(ap, i64) : va_arg(ap, i32);
      put_num(&o, (u64)(v < 0 ? -v : v), 10, width, pad, v < 0);
      break;
    }
    case 'u': put_num(&o, longs >= 2 ? va_arg(ap, u64) : va_arg(ap, u32), 10, width, pad, 0); break;
    case 'x': put_num(&o, longs >= 2 ? va_arg(ap, u64) : va_arg(ap, u32), 16, width, pad, 0); break;
    case 'p': put(&o, '0'); put(&o, 'x'); put_num(&o, va_arg(ap, u32), 16, 8, '0', 0); break;
    case '%': put(&o, '%'); break;
    case 0: f--; break;
    default: put(&o, '%'); put(&o, *f); break;
    }
  }
  if (size > 0) buf[o.len < size ? o.len : size - 1] = 0;
  return o.len < size ? o.len : size - 1;
}

int fmt(char *buf, int size, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = vfmt(buf, size, f, ap);
  va_end(ap);
  return n;
}

/* memcpy and memset use REP MOVSD / REP STOSD for the dword part, as Linux's i386
 * clear_page and copy_page do: the page copies of copy-on-write and the zeroing of
 * demand-zero pages are then one string instruction each. */
void *memcpy(void *d, const void *s, size_t n) {
  void *dp = d;
  size_t dwords = n / 4, rest = n % 4;
  __asm__ volatile("cld; rep movsl" : "+D"(dp), "+S"(s), "+c"(dwords) : : "memory");
  __asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(rest) : : "memory");
  return d;
}

void *memset(void *d, int c, size_t n) {
  void *dp = d;
  u32 v = (u8)c * 0x01010101u;
  size_t dwords = n / 4, rest = n % 4;
  __asm__ volatile("cld; rep stosl" : "+D"(dp), "+c"(dwords) : "a"(v) : "memory");
  __asm__ volatile("rep stosb" : "+D"(dp), "+c"(rest) : "a"(v) : "memory");
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const u8 *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) {
    if (*a != *b) return (u8)*a - (u8)*b;
    if (!*a) return 0;
  }
  return 0;
}
