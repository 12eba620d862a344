/* Looks up the embedded user programs by name. */
#include "initrd.h"
#include "../common/fmt.h"

extern const struct initrd_file initrd_table[];

const struct initrd_file *initrd_find(const char *name) {
  for (const struct initrd_file *f = initrd_table; f->name; f++)
    if (strcmp(f->name, name) == 0) return f;
  return NULL;
}
