/* The multiboot command line: words of the form key=value, separated by spaces. Words
 * without '=' (the loader passes the kernel's path first) are ignored.
 *   iters=N       every selected workload runs N iterations
 *   only=a,b,...  run only the named workloads */
#include "workloads.h"
#include "console.h"
#include "../common/wl.h"

static u32 iters[WL_COUNT];

static int parse_u32(const char *s, u32 len, u32 *out) {
  u32 v = 0;
  if (len == 0 || len > 9) return -1;
  for (u32 i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (u32)(s[i] - '0');
  }
  *out = v;
  return 0;
}

static int find_wl(const char *s, u32 len) {
  for (int i = 0; i < WL_COUNT; i++)
    if (strlen(wl_defs[i].name) == len && strncmp(wl_defs[i].name, s, len) == 0) return i;
  return -1;
}

void wl_configure(const char *cmdline) {
  for (int i = 0; i < WL_COUNT; i++) iters[i] = wl_defs[i].iters;
  const char *p = cmdline ? cmdline : "";
  while (*p) {
    while (*p == ' ') p++;
    const char *w = p;
    while (*p && *p != ' ') p++;
    u32 len = (u32)(p - w);
    const char *eq = w;
    while (eq < p && *eq != '=') eq++;
    if (len == 0 || eq == p) continue;
    const char *v = eq + 1;
    u32 klen = (u32)(eq - w), vlen = (u32)(p - v);
    if (klen == 5 && strncmp(w, "iters", 5) == 0) {
      u32 n;
      if (parse_u32(v, vlen, &n) < 0 || n == 0) {
        kprintf("jeos warning bad iters value\n");
        continue;
      }
      for (int i = 0; i < WL_COUNT; i++)
        if (iters[i]) iters[i] = n;
    } else if (klen == 4 && strncmp(w, "only", 4) == 0) {
      u32 keep[WL_COUNT] = { 0 };
      for (const char *s = v; s < p;) {
        const char *e = s;
        while (e < p && *e != ',') e++;
        int id = find_wl(s, (u32)(e - s));
        if (id < 0) kprintf("jeos warning unknown workload in only=\n");
        else keep[id] = 1;
        s = e + 1;
      }
      for (int i = 0; i < WL_COUNT; i++)
        if (!keep[i]) iters[i] = 0;
    } else {
      kprintf("jeos warning unknown option\n");
    }
  }
}

u32 wl_configured_iters(u32 id) { return id < WL_COUNT ? iters[id] : 0; }
