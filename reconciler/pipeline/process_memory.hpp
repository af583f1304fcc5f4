// How the process uses malloc: set once at start (main, and any run, which
// may be the first thing a test process does), trimmed after each slice.
// The reasons and their measurements are in bench/RESULTS.md ("Memory").
#pragma once

namespace reconciler::pipeline {

// One malloc arena for the run's two threads (pages parsed on the network
// thread are freed on the worker, and a second arena kept such memory
// resident), and a fixed mmap threshold so that large page bodies are
// returned when freed instead of leaving holes in the heap. Idempotent;
// a no-op without glibc.
void tune_process_memory();

// Hands the pages malloc holds free back to the kernel: glibc returns only
// the top of its heap by itself, and a slice's freed objects lie below.
void release_freed_memory();

}  // namespace reconciler::pipeline
