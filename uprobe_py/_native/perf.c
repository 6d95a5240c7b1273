/* perf_event_open sampling for uprobe_py (probes/perf.py): open an event, map its ring
 * buffer, and decode PERF_RECORD_SAMPLE records into a caller's array, one call per batch.
 *
 * Layout facts from perf_event_open(2): the first mmap page is struct perf_event_mmap_page
 * (data_head written by the kernel, data_tail by us), followed by 2^n data pages; each
 * record starts with struct perf_event_header; a sample with sample_type
 * IP|TID|TIME|CPU|PERIOD[|CALLCHAIN] carries, in this order: ip, pid+tid (u32 each),
 * time, cpu+res (u32 each), period, then nr + nr callchain entries. With comm_exec and
 * sample_id_all, an exec comes as a PERF_RECORD_COMM (misc COMM_EXEC) ending in the
 * sample_id fields; it is returned as an up_sample with UP_EXEC in misc.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>

#define UP_MAXCHAIN 32
#define UP_EXEC 0x10000         /* in up_sample.misc: not a sample but an exec of pid */

struct up_sample {
    uint64_t ip, time, period;
    uint32_t pid, tid, cpu, misc;
    uint32_t nchain;
    uint64_t chain[UP_MAXCHAIN];
};

struct up_ring {
    int fd;
    void *base;
    size_t map_size;
    uint64_t data_size;
    uint64_t lost;          /* PERF_RECORD_LOST totals */
    uint64_t seen;          /* samples decoded */
};

/* returns the fd, or -errno */
int up_perf_open(uint32_t type, uint64_t config, uint64_t period, int freq, int pid, int cpu,
                 int inherit, int exclude_kernel, int callchain)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    if (freq) {
        attr.freq = 1;
        attr.sample_freq = period;
    } else {
        attr.sample_period = period;
    }
    attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU
                       | PERF_SAMPLE_PERIOD;
    if (callchain) {
        attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
        attr.exclude_callchain_kernel = 1;
    }
    attr.disabled = 1;
    attr.inherit = inherit ? 1 : 0;
    attr.exclude_kernel = exclude_kernel ? 1 : 0;
    attr.exclude_hv = 1;
    attr.wakeup_events = 1;
    attr.comm = 1;              /* exec records: a process's module map is new after one */
    attr.comm_exec = 1;
    attr.sample_id_all = 1;     /* ... stamped with pid/tid, time and cpu */
    long fd = syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return -errno;
    return (int)fd;
}

/* map 1 + pages data pages (pages a power of two); 0, or -errno */
int up_ring_map(struct up_ring *r, int fd, int pages)
{
    long psz = sysconf(_SC_PAGESIZE);
    size_t len = (size_t)(pages + 1) * (size_t)psz;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    r->fd = fd;
    r->base = p;
    r->map_size = len;
    r->data_size = (uint64_t)pages * (uint64_t)psz;
    r->lost = 0;
    r->seen = 0;
    return 0;
}

void up_ring_unmap(struct up_ring *r)
{
    if (r->base) {
        munmap(r->base, r->map_size);
        r->base = NULL;
    }
}

int up_perf_enable(int fd, int on)
{
    return ioctl(fd, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0) < 0 ? -errno : 0;
}

/* the counter's current value (read(2) of the fd), -1 on error */
long long up_perf_count(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
        return -1;
    return (long long)v;
}

static void copy_out(const struct up_ring *r, uint64_t off, void *dst, size_t n)
{
    const char *data = (const char *)r->base + sysconf(_SC_PAGESIZE);
    uint64_t pos = off % r->data_size;
    size_t first = n;
    if (pos + n > r->data_size)
        first = (size_t)(r->data_size - pos);
    memcpy(dst, data + pos, first);
    if (first < n)
        memcpy((char *)dst + first, data, n - first);
}

/* Decode up to max samples; other records are skipped (LOST ones counted).
 * Returns the number of samples written to out. */
int up_ring_read(struct up_ring *r, struct up_sample *out, int max, int callchain)
{
    struct perf_event_mmap_page *meta = (struct perf_event_mmap_page *)r->base;
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    int n = 0;
    unsigned char buf[64 + 8 * (UP_MAXCHAIN + 512)];
    while (tail < head && n < max) {
        struct perf_event_header h;
        copy_out(r, tail, &h, sizeof h);
        if (h.size < sizeof h)
            break;                      /* corrupt: stop rather than loop */
        if (h.type == PERF_RECORD_SAMPLE) {
            size_t len = h.size < sizeof buf ? h.size : sizeof buf;
            copy_out(r, tail, buf, len);
            const uint64_t *w = (const uint64_t *)(buf + sizeof h);
            struct up_sample *s = &out[n++];
            s->misc = h.misc;
            s->ip = w[0];
            s->pid = (uint32_t)w[1];
            s->tid = (uint32_t)(w[1] >> 32);
            s->time = w[2];
            s->cpu = (uint32_t)w[3];
            s->period = w[4];
            s->nchain = 0;
            if (callchain && len >= sizeof h + 6 * 8) {
                uint64_t nr = w[5];
                const uint64_t *ips = w + 6;
                size_t avail = (len - sizeof h - 6 * 8) / 8;
                if (nr > avail)
                    nr = avail;
                for (uint64_t i = 0; i < nr && s->nchain < UP_MAXCHAIN; i++)
                    if (ips[i] < (uint64_t)PERF_CONTEXT_MAX)     /* skip context markers */
                        s->chain[s->nchain++] = ips[i];
            }
            r->seen++;
        } else if (h.type == PERF_RECORD_COMM && (h.misc & PERF_RECORD_MISC_COMM_EXEC)
                   && h.size >= sizeof h + 8 + 24) {
            /* u32 pid, tid; char comm[] (8-aligned); sample_id {pid, tid; time; cpu, res} */
            uint32_t ids[2];
            uint64_t tail_id[3];
            copy_out(r, tail + sizeof h, ids, sizeof ids);
            copy_out(r, tail + h.size - sizeof tail_id, tail_id, sizeof tail_id);
            struct up_sample *s = &out[n++];
            s->misc = UP_EXEC | h.misc;
            s->ip = 0;
            s->pid = ids[0];
            s->tid = ids[1];
            s->time = tail_id[1];
            s->cpu = (uint32_t)tail_id[2];
            s->period = 0;
            s->nchain = 0;
        } else if (h.type == PERF_RECORD_LOST) {
            uint64_t lw[2];
            copy_out(r, tail + sizeof h, lw, sizeof lw);
            r->lost += lw[1];
        }
        tail += h.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
    return n;
}
