// synced_objects.h — the synchronization objects whose clocks one thread last saw
// holding exactly its own clock's content, and at which clock generation
// (vector_clock.h: clock_generation).
//
// The lock path's shortcut without the object's line: a thread that saw object
// m's clock hold its own content id at generation g knows, while the generation
// still reads g, that neither clock has changed since (every content change moves
// the generation), so acquiring m joins nothing and releasing it adds nothing. The
// test reads this thread-local array and the generation's line, not the sync
// table's entry for m. Between samples, once the epochs have spread, the
// generation stays put and every hand-off of a lock the thread has seen takes the
// shortcut; a generation that moved costs one ordinary lookup (which notes the
// object again).
//
// The same notes serve the release side (ThreadState::released_objects): an
// object whose clock held at least the thread's content at generation g, seen by
// a release that changed nothing, needs no release while the generation reads g.
//
// A few entries, direct-mapped by address (a later object evicts an earlier one
// of the same index). Only its own thread reads or writes it, from ordinary
// context (the lock interposers). Zero bytes are empty (no object has address 0,
// no generation is 0).
#pragma once

#include <cstdint>

namespace racetrap {

class SyncedObjects {
 public:
  // Whether `object`'s clock held this thread's content at generation `generation`.
  bool knows(uintptr_t object, uint64_t generation) const {
    const Entry& e = entries_[index(object)];
    return e.object == object && e.generation == generation;
  }
  // `object`'s clock held this thread's content (same id), seen after the
  // generation read `generation`.
  void note(uintptr_t object, uint64_t generation) { entries_[index(object)] = Entry{object, generation}; }
  void clear() {
    for (Entry& e : entries_) e = Entry{};
  }

  static constexpr int kEntries = 8;

 private:
  struct Entry {
    uintptr_t object = 0;
    uint64_t generation = 0;
  };
  static unsigned index(uintptr_t object) {
    return static_cast<unsigned>((object * 0x9e3779b97f4a7c15ull) >> 61);  // the top 3 bits: kEntries
  }
  Entry entries_[kEntries];
};
static_assert(SyncedObjects::kEntries == 8, "index() takes the top 3 bits");

}  // namespace racetrap
