#include "vk_spawn.h"
#include "vk_sched.h"
