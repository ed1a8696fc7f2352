// writer_search.h — value-change mode: who wrote the bytes that changed under a
// stalled sample? KCSAN can only say "unknown origin". Here the stalled thread keeps
// waiting (yielding its CPU) while the other threads, at their next sampling tick,
// single-step themselves (EFLAGS.TF) for a small instruction budget, decoding each
// instruction before it runs, until one of them writes those bytes again; a racy
// loop does so within a few instructions. That write happens while the sampled
// thread is still stalled in its handler, so it is concurrent with the sampled
// access by the same argument as the change itself (value_change.cc), and its
// stack is the report's other side.
//
// No signal is sent to ask: a signal would interrupt a thread blocked in poll,
// epoll_wait or select with EINTR, which the program would see. The sampling tick
// is a CPU-time clock, so it comes only to threads that run, and they take part.
//
// Protocol (one search at a time, process-wide, lock-free):
//  - the stalled thread claims the probe, sets the bytes and a new generation and
//    opens it;
//  - a thread whose tick finds an open search it has not joined sets TF in its
//    interrupted context and checks each instruction at its single-step traps
//    (TRAP_TRACE): the first write to the bytes claims the probe (open -> claimed),
//    records the access and stack, and after one more step (the write has then
//    happened) publishes it (-> done); every stepping thread stops at the budget, at
//    a stale generation, before an instruction that would expose or drop TF (PUSHF,
//    POPF, SYSCALL, INT), or inside racetrap;
//  - the stalled thread waits, bounded, for `done`, then closes the probe.
// Contract: every function is signal-safe.
#pragma once

#include <signal.h>

#include <cstdint>

#include "race_record.h"

namespace racetrap {
struct ThreadState;

// Instructions a thread single-steps at most for one search (each step is one
// SIGTRAP, a few microseconds).
constexpr uint32_t kWriterStepBudget = 48;

struct FoundWriter {
  uint32_t slot = 0;  // the writer's thread slot
  AccessRecord access;
  HeldLocksRecord locks;
};

// The stalled thread `t`: searches for the writer of [address, address + size),
// waiting (yielding) at most `wait_ns` of wall time. True with *out filled when a thread wrote those bytes
// while `t` waited. `*atomic_writer` is set when the write found was atomic
// (LOCK-prefixed or XCHG) and atomics are not reported: no race to report.
bool find_writer(ThreadState& t, uint64_t address, uint32_t size, uint64_t wait_ns, FoundWriter* out,
                 bool* atomic_writer);

// A sampling tick of `t` (not inside racetrap): joins an open search this thread
// has not joined yet, by starting to single-step from `ucontext`. True when it did
// (the tick then samples nothing). signal-safe.
bool join_writer_search(ThreadState& t, void* ucontext);

// SIGTRAP dispatch (signal_handler.cc): whether `info` is a single-step trap of a
// search in this thread (then it was handled). `room`: the handler's stack has
// room for decoding and unwinding (else stepping stops).
bool handle_writer_search_step(ThreadState* t, const siginfo_t* info, void* ucontext, bool room);

// In a forked child: no search is running there.
void writer_search_after_fork();

}  // namespace racetrap
