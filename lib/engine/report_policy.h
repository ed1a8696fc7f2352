// report_policy.h — every rule by which racetrap decides "don't report this", in
// one place so a reviewer can audit them together. Each rule says what it drops
// and why; nothing else in racetrap drops a conflict (user suppression files,
// suppressions.h, are the user's own rules, applied after these).
//
// At a sample (which accesses are worth a watch):
//   - stack- or FS/GS-relative operands, and addresses on the thread's own stack
//     or static TLS: no other thread touches them (stacks reused after a thread
//     exits are retired separately, thread_state.h);
//   - addresses outside user space or in the first page: not shared data;
//   - writable data of libc and ld.so: their own internal state, synchronized
//     by means racetrap cannot see;
//   - LOCK-prefixed or XCHG accesses, unless report_atomics: atomic by the ISA;
//   - learned hand-written synchronization words (sync_words.h: LOCK/XCHG
//     operands, spin-wait loads), unless report_atomics: the program's atomics;
//   - ranges the program declared benign (AnnotateBenignRace*), and its reads or
//     writes inside AnnotateIgnore{Reads,Writes}Begin/End.
// At a trap (the conflicting access):
//   - the same annotations (benign range; ignored reads or writes);
//   - either access atomic, unless report_atomics (race_check.cc asks
//     atomics_exempt), or the watched bytes a learned synchronization word;
//   - in value-change mode, a change of a learned synchronization word.
// At render time (symbolized stacks):
//   - a data race whose two accesses are both std::atomic operations of libstdc++
//     (a relaxed/acquire/release load or store is a plain MOV on x86, which only
//     the debug info names): is_std_atomic_function on each innermost frame;
//   - a data race whose two accesses are inside libstdc++ synchronization objects
//     built on atomics (std::barrier, std::latch, std::counting_semaphore):
//     is_std_sync_object_function.
//
// Contract: every function here is signal-safe (no allocation; string_view only).
#pragma once

#include <cstdint>
#include <string_view>

#include "memory_access.h"

namespace racetrap {

// What a sampling or trapping thread knows about itself, for the rules above.
struct AccessContext {
  AddressRange stack;  // the thread's own stack (and, for glibc, its static TLS above it)
  AddressRange tls;    // its static TLS block below the thread pointer
  const AddressRange* runtime_data = nullptr;  // writable segments of libc and ld.so
  int runtime_data_count = 0;
  int ignore_reads = 0;   // > 0 inside AnnotateIgnoreReadsBegin/End
  int ignore_writes = 0;  // > 0 inside AnnotateIgnoreWritesBegin/End
  bool report_atomics = false;  // RACETRAP_REPORT_ATOMICS
  // The program's AnnotateBenignRace* ranges; nullptr: none.
  bool (*declared_benign)(uint64_t addr, uint32_t size) = nullptr;
  // Learned hand-written synchronization words (sync_words.h); nullptr: none.
  bool (*is_sync_word)(uint64_t addr, uint32_t size) = nullptr;
};

// Whether a sampled access is worth publishing as a watch.
bool worth_watching(const MemoryAccess& access, const AccessContext& context);

// Whether a sampled access may touch memory another thread of the program uses
// (the first rules of worth_watching: not the thread's own stack or TLS, not libc's
// or ld.so's data, a user-space address): where a learned synchronization word
// may lie.
bool could_be_shared(const MemoryAccess& access, const AccessContext& context);

// Whether bytes are a learned hand-written synchronization word (sync_words.h) and
// atomics are not reported: a conflict there is synchronization, like an atomic one.
bool sync_word_exempt(uint64_t address, uint32_t size, const AccessContext& context);

// Whether the program's annotations silence a trap on the watch's bytes
// [watch_address, +watch_size) by an access that writes (or reads).
bool annotations_silence(uint64_t watch_address, uint32_t watch_size, bool trap_writes,
                         const AccessContext& context);

// Whether a conflict is dropped because an atomic access is involved.
bool atomics_exempt(bool trap_atomic, bool watch_atomic, bool report_atomics);

// Whether a demangled function name is a std::atomic operation of libstdc++
// (std::__atomic_impl::, std::atomic<, std::__atomic_base<, std::atomic_ref<, ...).
bool is_std_atomic_function(std::string_view demangled_function);

// Whether a demangled function name is part of a libstdc++ synchronization object
// built on atomics (std::barrier, std::latch, std::counting_semaphore and the
// atomic-wait machinery under them): their members are ordered by the object's own
// atomics, which an unmodified binary shows only as plain moves.
bool is_std_sync_object_function(std::string_view demangled_function);

}  // namespace racetrap
