#include "vk_spawn.h"
#include "vk_sched.h"
#include "vk_sockdiag.h"
#include "vk_fdholder.h"
