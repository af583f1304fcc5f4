#include "pipeline/process_memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace reconciler::pipeline {

void tune_process_memory() {
#if defined(__GLIBC__)
    static const bool done = [] {
        ::mallopt(M_ARENA_MAX, 1);
        // Blocks of 128 KB and more (list page bodies) in mappings of their own.
        return ::mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1;
    }();
    (void)done;
#endif
}

void release_freed_memory() {
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

}  // namespace reconciler::pipeline
