"""cffi build script for uprobe_py._native._perf (perf_event_open sampling, perf.c)."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffi = FFI()
ffi.cdef("""
#define UP_MAXCHAIN 32
#define UP_EXEC 65536
struct up_sample {
    uint64_t ip, time, period;
    uint32_t pid, tid, cpu, misc;
    uint32_t nchain;
    uint64_t chain[32];
};
struct up_ring {
    int fd;
    void *base;
    size_t map_size;
    uint64_t data_size;
    uint64_t lost;
    uint64_t seen;
};
int up_perf_open(uint32_t type, uint64_t config, uint64_t period, int freq, int pid, int cpu,
                 int inherit, int exclude_kernel, int callchain);
int up_ring_map(struct up_ring *r, int fd, int pages);
void up_ring_unmap(struct up_ring *r);
int up_perf_enable(int fd, int on);
long long up_perf_count(int fd);
int up_ring_read(struct up_ring *r, struct up_sample *out, int max, int callchain);
""")
with open(os.path.join(HERE, "perf.c")) as f:
    ffi.set_source("uprobe_py._native._perf", f.read(), extra_compile_args=["-O2"])

if __name__ == "__main__":
    ffi.compile(verbose=True)
