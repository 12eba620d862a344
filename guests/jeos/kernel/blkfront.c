/* blkfront: the disk through Xen's split block driver (xen/include/public/io/blkif.h,
 * io/ring.h, grant_table.h, event_channel.h), to the management domain's blkback. With no
 * xenstore here, the connection follows the backend's convention: the ring page is grant
 * reference 0 (to domain 0) and the event channel binds to domain 0's port 1. Data moves
 * through a granted bounce buffer of BOUNCE_PAGES pages, one segment per page. */
#include "blkfront.h"
#include "console.h"
#include "mm.h"
#include "pvops.h"
#include "x86.h"
#include "xen.h"

#define HC_update_va_mapping 14
#define HC_grant_table_op 20
#define HC_event_channel_op 32
#define GNTTABOP_setup_table 2    /* grant_table.h */
#define GTF_permit_access 1
#define EVTCHNOP_bind_interdomain 0 /* event_channel.h */
#define EVTCHNOP_send 4
#define BLKIF_OP_READ 0           /* blkif.h */
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKBACK_PORT 1
#define RING_SIZE 32              /* __RING_SIZE for 108-byte entries in a page */
#define BOUNCE_PAGES 8            /* at most 11 segments a request (blkif.h) */
#define GRANT_TABLE_VA (KERNEL_MAP_LIMIT - 2 * PAGE_SIZE)

struct grant_entry { volatile u16 flags, domid; volatile u32 frame; }; /* grant_entry_v1 */
struct seg { u32 gref; u8 first_sect, last_sect; u16 pad; };
struct request {                  /* blkif_request, 32-bit layout: 108 bytes */
  u8 operation, nr_segments;
  u16 handle;
  u32 id_lo, id_hi, sector_lo, sector_hi;
  struct seg seg[11];
} __attribute__((packed));
struct response { u32 id_lo, id_hi; u8 operation, pad; short status; };
struct ring {
  volatile u32 req_prod, req_event, rsp_prod, rsp_event;
  u8 pad[48];
  union { struct request req; struct response rsp; } ring[RING_SIZE];
};

static int ready;
static u32 port, req_prod, rsp_cons, next_id;
static struct ring *ring;
static u8 *bounce[BOUNCE_PAGES]; /* frames taken at connection: no BSS natively */

static inline u32 hc(u32 nr, u32 a1, u32 a2, u32 a3, u32 a4) {
  __asm__ volatile("int $0x82" : "+a"(nr), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4) : : "memory");
  return nr;
}

int blkfront_ready(void) { return ready; }

void blkfront_init(void) {
  struct { u16 dom, pad; u32 nr_frames; i16 status, pad2; u32 frame_list; } setup;
  u32 frame = 0;
  setup = (typeof(setup)){ 0x7FF0 /* DOMID_SELF */, 0, 1, 0, 0, (u32)&frame };
  if (hc(HC_grant_table_op, GNTTABOP_setup_table, (u32)&setup, 1, 0) || setup.status) return;
  if (hc(HC_update_va_mapping, GRANT_TABLE_VA, (frame << 12) | PTE_P | PTE_W, 0, 2)) return;
  struct grant_entry *gnt = (struct grant_entry *)GRANT_TABLE_VA;
  ring = (struct ring *)frame_alloc_zeroed();
  if (!ring) return;
  for (u32 i = 0; i < BOUNCE_PAGES; i++)
    if (!(bounce[i] = (u8 *)frame_alloc())) return;
  ring->req_event = ring->rsp_event = 1; /* SHARED_RING_INIT */
  gnt[0] = (struct grant_entry){ 0, 0, (u32)ring >> 12 };
  for (u32 i = 0; i < BOUNCE_PAGES; i++)
    gnt[1 + i] = (struct grant_entry){ 0, 0, (u32)bounce[i] >> 12 };
  __asm__ volatile("" ::: "memory");
  /* The frame and domid first, then the flags that make the entry valid (grant_table.h). */
  for (u32 i = 0; i <= BOUNCE_PAGES; i++) gnt[i].flags = GTF_permit_access;
  struct { u16 remote_dom, pad; u32 remote_port, local_port; } bind = { 0, 0, BLKBACK_PORT, 0 };
  if (hc(HC_event_channel_op, EVTCHNOP_bind_interdomain, (u32)&bind, 0, 0)) return;
  port = bind.local_port;
  ready = 1;
}

/* One request of `nsect` sectors (at most BOUNCE_PAGES * 8) through the bounce pages. */
static int request(u8 op, u32 lba, u32 nsect) {
  struct request *r = &ring->ring[req_prod % RING_SIZE].req;
  r->operation = op;
  r->handle = 0;
  u32 id_sent = next_id++;
  r->id_lo = id_sent;
  r->id_hi = 0;
  r->sector_lo = lba;
  r->sector_hi = 0;
  u32 n = 0;
  for (u32 left = nsect; left; n++) {
    u32 k = left > 8 ? 8 : left;
    r->seg[n] = (struct seg){ 1 + n, 0, (u8)(k - 1), 0 };
    left -= k;
  }
  r->nr_segments = (u8)(op == BLKIF_OP_FLUSH_DISKCACHE ? 0 : n);
  __asm__ volatile("" ::: "memory"); /* the request before the index (ring.h wmb) */
  u32 old = ring->req_prod, now = ++req_prod;
  ring->req_prod = now;
  /* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY */
  if (now - ring->req_event < now - old) hc(HC_event_channel_op, EVTCHNOP_send, (u32)&port, 0, 0);
  for (;;) {
    pv.irq_disable();
    if (ring->rsp_prod != rsp_cons) break;
    pv.safe_halt();
  }
  pv.irq_enable();
  struct response *p = &ring->ring[rsp_cons % RING_SIZE].rsp;
  int status = p->status;
  u32 id = p->id_lo;
  rsp_cons++;
  ring->rsp_event = rsp_cons + 1; /* RING_FINAL_CHECK_FOR_RESPONSES */
  /* The response took the request's slot (the ring's entries are a union). */
  if (id != id_sent || status != 0) {
    kprintf("blkfront: request %u status=%d\n", id, status);
    return -1;
  }
  return 0;
}

int blkfront_rw(int write, u32 lba, u32 count, void *buf) {
  u8 *p = buf;
  while (count) {
    u32 n = count > BOUNCE_PAGES * 8 ? BOUNCE_PAGES * 8 : count;
    for (u32 i = 0; write && i < n; i += 8)
      memcpy(bounce[i / 8], p + i * 512, (n - i > 8 ? 8 : n - i) * 512);
    if (request(write ? BLKIF_OP_WRITE : BLKIF_OP_READ, lba, n) < 0) return -1;
    for (u32 i = 0; !write && i < n; i += 8)
      memcpy(p + i * 512, bounce[i / 8], (n - i > 8 ? 8 : n - i) * 512);
    p += n * 512;
    lba += n;
    count -= n;
  }
  return 0;
}

int blkfront_flush(void) {
  /* The backend refuses zero segments for reads and writes only; a flush carries none. */
  return request(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
}
