#define _GNU_SOURCE
#include "vk_sched.h"
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// struct sched_attr of sched_setattr(2) (glibc 2.36 declares neither the struct nor a wrapper).
struct vk_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

// The last non-zero slice asked for with vk_sched_set_thread_slice, 0 for none: vk_spawn drops it
// in children.
static _Atomic unsigned long long requested_slice = 0;

static int set_slice(unsigned long long nanoseconds) {
    struct vk_sched_attr attr;
    memset(&attr, 0, sizeof(attr));
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) < 0) return errno;
    // Only the fair classes have a slice to set; real-time and deadline threads keep theirs.
    if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) return EINVAL;
    attr.size = sizeof(attr);
    attr.sched_flags &= 0x01;  // SCHED_FLAG_RESET_ON_FORK as it was; nice and policy as they were
    attr.sched_runtime = nanoseconds;
    attr.sched_deadline = attr.sched_period = 0;
    if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) return errno;
    return 0;
}

int vk_sched_set_thread_slice(unsigned long long nanoseconds) {
    int rc = set_slice(nanoseconds);
    if (rc == 0 && nanoseconds != 0) atomic_store(&requested_slice, nanoseconds);
    return rc;
}

unsigned long long vk_sched_thread_slice(void) {
    struct vk_sched_attr attr;
    memset(&attr, 0, sizeof(attr));
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) < 0) return 0;
    return attr.sched_runtime;
}

unsigned long long vk_sched_requested_slice(void) {
    return atomic_load(&requested_slice);
}

int vk_sched_reset_thread_slice_for_spawn(void) {
    unsigned long long slice = atomic_load(&requested_slice);
    if (slice == 0 || vk_sched_thread_slice() != slice) return 0;
    return set_slice(0) == 0;
}

void vk_sched_restore_thread_slice_after_spawn(int was_reset) {
    unsigned long long slice = atomic_load(&requested_slice);
    if (was_reset && slice != 0) set_slice(slice);
}
