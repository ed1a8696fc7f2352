// writer_search.h — value-change mode: who wrote the bytes that changed under a
// stalled sample? KCSAN can only say "unknown origin"; racetrap asks the threads
// that ran recently to single-step themselves (EFLAGS.TF) for a small instruction
// budget, decoding each instruction before it runs, until one of them writes those
// bytes again. A racy loop does so within a few instructions. That write happens
// while the sampled thread is still stalled in its handler, so it is concurrent
// with the sampled access by the same argument as the change itself
// (value_change.cc), and its stack is the report's other side.
//
// Protocol (one search at a time, process-wide, lock-free):
//  - the stalled thread claims the probe, sets the bytes and a new generation, and
//    sends each recently running thread a SIGTRAP queued with SI_QUEUE whose value
//    carries a cookie and the generation (rt_tgsigqueueinfo);
//  - a thread receiving it sets TF in its interrupted context and checks each
//    instruction at its single-step traps (TRAP_TRACE): the first write to the
//    bytes claims the probe (found: open -> claimed), records the access and stack,
//    and after one more step (the write has then happened) publishes it (-> done);
//    every stepping thread stops at the budget, at a stale generation, before a
//    PUSHF (the pushed flags must not carry racetrap's TF), or inside racetrap;
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
// waiting at most `wait_ns`. True with *out filled when a thread wrote those bytes
// while `t` waited. `*atomic_writer` is set when the write found was atomic
// (LOCK-prefixed or XCHG) and atomics are not reported: no race to report.
bool find_writer(ThreadState& t, uint64_t address, uint32_t size, uint64_t wait_ns, FoundWriter* out,
                 bool* atomic_writer);

// SIGTRAP dispatch (signal_handler.cc). Whether `info` is racetrap's request to
// search (then it was handled) / a single-step trap of a search in this thread.
// `room`: the handler's stack has room for decoding and unwinding (else the
// request is declined and stepping stops).
bool handle_writer_search_request(ThreadState* t, const siginfo_t* info, void* ucontext, bool room);
bool handle_writer_search_step(ThreadState* t, const siginfo_t* info, void* ucontext, bool room);

}  // namespace racetrap
