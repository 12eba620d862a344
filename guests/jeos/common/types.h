/* Fixed-width integer types for a freestanding IA-32 build (no libc headers). */
#ifndef JEOS_TYPES_H
#define JEOS_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char i8;
typedef short i16;
typedef int i32;
typedef long long i64;
typedef unsigned int size_t;

#define NULL ((void *)0)

#include <stdarg.h> /* freestanding header shipped with the compiler */

#endif
