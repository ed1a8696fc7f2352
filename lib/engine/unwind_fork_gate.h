// unwind_fork_gate.h — libunwind across fork(): no unwind of racetrap's may be in
// progress in any thread at the moment of a fork.
//
// libunwind keeps process-wide locks (its caches, its table search) and blocks every
// signal while it holds one. A thread that forks while another thread of its
// process is inside one of racetrap's unwinds leaves that lock held in the child
// by a thread that does not exist there: the child's first unwind (a stack for its
// first pthread_create, its first sample) then waits forever, with every signal
// blocked, so not even an alarm ends it. The fork's prepare handler therefore
// closes the gate and waits for the unwinds in progress to end; while it is
// closed, an unwind that would start is skipped (its stack is left empty). The
// parent and the child open it again after the fork.
//
// Contract: begin_unwind/end_unwind are signal-safe (two atomic operations); the
// fork handlers run in ordinary context (the atfork handlers).
#pragma once

namespace racetrap {

// signal-safe. Whether the caller may unwind now; when true, end_unwind() must
// follow once it is out of libunwind.
bool begin_unwind();
void end_unwind();

// begin_unwind/end_unwind as a scope: `allowed()` says whether it may unwind.
class UnwindPermit {
 public:
  UnwindPermit() : allowed_(begin_unwind()) {}
  ~UnwindPermit() {
    if (allowed_) end_unwind();
  }
  UnwindPermit(const UnwindPermit&) = delete;
  UnwindPermit& operator=(const UnwindPermit&) = delete;
  bool allowed() const { return allowed_; }

 private:
  bool allowed_;
};

// fork()'s prepare handler: closes the gate and waits (up to about two seconds) for
// the other threads' unwinds in progress to end (not the forking thread's own: a
// fork from a signal handler that interrupted one).
void close_unwind_gate_for_fork();
// After the fork, in the parent: opens the gate.
void open_unwind_gate_in_parent();
// After the fork, in the child: no other thread is left, so none but the forking
// thread's own (resumed when its handler returns) is unwinding;
// opens the gate, unless an unwind was still in progress when the fork went ahead
// anyway (the wait ran out): libunwind's lock may then be held for good, and the
// child unwinds no more (its stacks stay empty).
void open_unwind_gate_in_child();

}  // namespace racetrap
