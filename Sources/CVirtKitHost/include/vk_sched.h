#ifndef VK_SCHED_H
#define VK_SCHED_H

/// Asks for a fair-class time slice of `nanoseconds` (sched_setattr's sched_runtime, which Linux
/// 6.12+ EEVDF reads as the thread's slice; 0 = the kernel's default) for the calling thread, and
/// so for the threads it creates from then on. A shorter slice gives the thread an earlier
/// deadline, so when it wakes it can preempt a CPU-bound thread at once rather than wait out that
/// thread's slice until the next tick. Nice value and policy are kept. 0 gives the calling thread
/// the default back. Returns 0 or an errno value (EINVAL for a real-time thread). vk_spawn's
/// children get the default slice back.
int vk_sched_set_thread_slice(unsigned long long nanoseconds);

/// The calling thread's current slice in nanoseconds (the kernel's default when none was asked
/// for), or 0 where the kernel does not say.
unsigned long long vk_sched_thread_slice(void);

/// The last non-zero slice asked for with vk_sched_set_thread_slice, 0 for none.
unsigned long long vk_sched_requested_slice(void);

/// Around posix_spawn: a calling thread that has the asked-for slice goes back to the default
/// (returns 1 when it did), then gets it again, so a spawned program never inherits it.
int vk_sched_reset_thread_slice_for_spawn(void);
void vk_sched_restore_thread_slice_after_spawn(int was_reset);
#endif
