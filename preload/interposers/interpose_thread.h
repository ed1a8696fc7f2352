// interpose_thread.h — thread lifetime bookkeeping shared with fork handling.
#pragma once

namespace racetrap {
// In a forked child: only the forking thread exists; forget the others' handles.
void forget_other_threads_after_fork();
}  // namespace racetrap
