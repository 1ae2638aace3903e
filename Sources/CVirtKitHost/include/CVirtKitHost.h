#include "vk_spawn.h"
