// Process lifecycle around the recorder: start from the environment (library constructor), stop
// at exit (destructor), _exit, abort and exec, and the fork handlers. Everything here checks the
// pid first: a vfork child shares the parent's memory and must not touch the parent's trace.
#pragma once

namespace heapwise::preload {

void before_exec() noexcept;
void after_failed_exec() noexcept;
void before_exit() noexcept;
void before_abort() noexcept;

}  // namespace heapwise::preload
