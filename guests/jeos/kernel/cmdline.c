/* The multiboot command line: words of the form key=value, separated by spaces. Words
 * without '=' (the loader passes the kernel's path first) are ignored.
 *   iters=N       every workload runs N iterations
 *   NAME=N        workload NAME runs N iterations (e.g. forkwait=100)
 *   only=a,b,...  run only the named workloads
 *   shell=1       after the workloads, read commands from the console
 *   tpr=1         irqmask is followed by its TPR variant (irqmask-tpr, tpr.c) */
#include "workloads.h"
#include "console.h"
#include "../common/wl.h"

static u32 iters[WL_COUNT];
static int shell;
static int tpr;

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
  /* Order-independent: a workload runs name=N iterations if given, else iters=N, else
   * its default; only= then filters. */
  u32 global = 0, named[WL_COUNT] = { 0 }, keep[WL_COUNT] = { 0 };
  int have_only = 0;
  const char *p = cmdline ? cmdline : "";
  while (*p) {
    while (*p == ' ') p++;
    const char *w = p;
    while (*p && *p != ' ') p++;
    const char *eq = w;
    while (eq < p && *eq != '=') eq++;
    if (eq == p) continue; /* no '=': the kernel's path, or nothing */
    const char *v = eq + 1;
    u32 klen = (u32)(eq - w), vlen = (u32)(p - v), n;
    int id;
    if (klen == 4 && strncmp(w, "only", 4) == 0) {
      have_only = 1;
      for (const char *s = v; s < p;) {
        const char *e = s;
        while (e < p && *e != ',') e++;
        id = find_wl(s, (u32)(e - s));
        if (id < 0) kprintf("jeos warning unknown workload in only=\n");
        else keep[id] = 1;
        s = e + 1;
      }
    } else if (klen == 5 && strncmp(w, "iters", 5) == 0) {
      if (parse_u32(v, vlen, &n) < 0 || n == 0) kprintf("jeos warning bad iters value\n");
      else global = n;
    } else if (klen == 5 && strncmp(w, "shell", 5) == 0) {
      shell = vlen == 1 && v[0] == '1';
    } else if (klen == 3 && strncmp(w, "tpr", 3) == 0) {
      tpr = vlen == 1 && v[0] == '1';
    } else if ((id = find_wl(w, klen)) >= 0) {
      if (parse_u32(v, vlen, &n) < 0 || n == 0) kprintf("jeos warning bad iteration count\n");
      else named[id] = n;
    } else {
      kprintf("jeos warning unknown option\n");
    }
  }
  for (int i = 0; i < WL_COUNT; i++) {
    iters[i] = named[i] ? named[i] : global ? global : wl_defs[i].iters;
    if (have_only && !keep[i]) iters[i] = 0;
  }
}

u32 wl_configured_iters(u32 id) { return id < WL_COUNT ? iters[id] : 0; }
int cmdline_shell(void) { return shell; }
int cmdline_tpr(void) { return tpr; }
