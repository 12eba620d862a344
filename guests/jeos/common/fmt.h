/* Formatted output shared by the kernel and user programs (no privileged operations). */
#ifndef JEOS_FMT_H
#define JEOS_FMT_H
#include "types.h"

/* Divides *n by d in place and returns the remainder, with two 32-bit DIVs so that no
 * libgcc helper (__udivdi3) is needed. */
u32 divmod64(u64 *n, u32 d);

/* A small vsnprintf: %s %c %d %u %x %p and %llu / %llx, with a width and the 0 flag.
 * Always NUL-terminates; returns the length written. */
int vfmt(char *buf, int size, const char *f, va_list ap);
int fmt(char *buf, int size, const char *f, ...);

/* Memory and string helpers; gcc may also emit calls to memcpy/memset itself. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
