// sync_clocks.cc — address -> clock: lock-free open-addressing table, striped
// map for what does not fit (see sync_clocks.h).
#include "sync_clocks.h"

#include <sys/mman.h>

#include <new>

namespace racetrap {

namespace {
constexpr size_t kTableBytes = SyncClockTable::kEntries * 64;
}  // namespace

SyncClockTable::SyncClockTable() { map_entries(); }

SyncClockTable::~SyncClockTable() {
  if (entries_ != nullptr) {
    if (any_on_heap_.load(std::memory_order_relaxed))
      for (uint32_t i = 0; i < kEntries; ++i)
        if (entries_[i].clock.on_heap()) entries_[i].clock.free_storage();
    munmap(entries_, kTableBytes);
  }
  for (Stripe& s : stripes_)
    for (auto& [object, clock] : s.clocks) clock.free_storage();
}

void SyncClockTable::map_entries() {
  void* p = mmap(entries_, kTableBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (entries_ != nullptr ? MAP_FIXED : 0), -1, 0);
  entries_ = p == MAP_FAILED ? nullptr : static_cast<Entry*>(p);
}

SyncClockTable::Find SyncClockTable::find(uintptr_t object, bool insert, Entry** out) {
  if (entries_ == nullptr || object == 0) return Find::kOverflow;
  uint32_t i = home_of(object);
  for (uint32_t probe = 0; probe < kWindow; ++probe, i = (i + 1) & (kEntries - 1)) {
    Entry& e = entries_[i];
    uintptr_t key = e.key.load(std::memory_order_acquire);
    if (key == 0) {
      if (!insert) return Find::kAbsent;
      // Keys never return to 0: every entry before this one holds another key for
      // good, so whoever fills this one decides where `object` lives.
      if (e.key.compare_exchange_strong(key, object, std::memory_order_acq_rel, std::memory_order_acquire) ||
          key == object) {
        *out = &e;
        return Find::kFound;
      }
      continue;
    }
    if (key == object) {
      *out = &e;
      return Find::kFound;
    }
  }
  return Find::kOverflow;
}

void SyncClockTable::acquire_locked(Entry& e, VectorClock& thread_clock) {
  SpinGuard guard(e.lock);
  e.clock.acquire_into(thread_clock);
}

void SyncClockTable::release_locked(Entry& e, const VectorClock& thread_clock) {
  SpinGuard guard(e.lock);
  e.clock.release_from(thread_clock);
  if (e.clock.on_heap()) note_on_heap();
}

void SyncClockTable::acquire_slow(uintptr_t object, VectorClock& thread_clock) {
  Entry* e = nullptr;
  switch (find(object, /*insert=*/false, &e)) {
    case Find::kFound: {
      if (!e->clock.same_as(thread_clock)) acquire_locked(*e, thread_clock);  // same_as without the lock: see ObjectClock
      return;
    }
    case Find::kAbsent:
      return;  // never released: nothing to join
    case Find::kOverflow: {
      Stripe& s = stripe_of(object);
      SpinGuard guard(s.lock);
      auto it = s.clocks.find(object);
      if (it != s.clocks.end()) it->second.acquire_into(thread_clock);
      return;
    }
  }
}

uint64_t SyncClockTable::acquire_early(uintptr_t object, VectorClock& thread_clock) {
  Entry* e = nullptr;
  switch (find(object, /*insert=*/false, &e)) {
    case Find::kFound:
      return acquire_early_at(e, thread_clock);
    case Find::kAbsent:
      return 0;
    case Find::kOverflow:
      acquire_slow(object, thread_clock);
      return kNoVersion;
  }
  return kNoVersion;
}

void SyncClockTable::release_slow(uintptr_t object, const VectorClock& thread_clock) {
  Entry* e = nullptr;
  if (find(object, /*insert=*/true, &e) == Find::kFound) {
    if (!e->clock.same_as(thread_clock)) release_locked(*e, thread_clock);
    return;
  }
  Stripe& s = stripe_of(object);
  SpinGuard guard(s.lock);
  s.clocks[object].release_from(thread_clock);
}

void SyncClockTable::forget(uintptr_t object) {
  Entry* e = nullptr;
  switch (find(object, /*insert=*/false, &e)) {
    case Find::kFound: {
      SpinGuard guard(e->lock);
      e->clock.clear();  // the key stays: see sync_clocks.h
      return;
    }
    case Find::kAbsent:
      return;
    case Find::kOverflow: {
      Stripe& s = stripe_of(object);
      SpinGuard guard(s.lock);
      auto it = s.clocks.find(object);
      if (it == s.clocks.end()) return;
      it->second.free_storage();
      s.clocks.erase(it);
      return;
    }
  }
}

size_t SyncClockTable::overflow_objects() {
  size_t n = 0;
  for (Stripe& s : stripes_) {
    SpinGuard guard(s.lock);
    n += s.clocks.size();
  }
  return n;
}

void SyncClockTable::reset_after_fork() {
  // The only thread left; another one may have been inside the table or a map when
  // fork() copied them: fresh zero pages (MAP_FIXED replaces the old ones, whose
  // heap clocks are left alone), fresh maps, the old map memory left alone.
  map_entries();
  any_on_heap_.store(false, std::memory_order_relaxed);
  for (Stripe& s : stripes_) {
    s.lock.reset();
    new (&s.clocks) std::unordered_map<uintptr_t, ObjectClock>();
  }
  // Every object clock changed content (now empty): what a thread noted at the
  // generation before (SyncedObjects) no longer holds.
  note_clock_change();
}

}  // namespace racetrap
