/* racetrap/annotations.h — tell racetrap about synchronization it cannot see.
 *
 * racetrap sees the pthread, semaphore and futex calls a program makes; it does
 * not see ordering made by plain loads and stores (std::atomic loads, release
 * stores, hand-written spin locks, lock-free queues, flags). Mark such handoffs:
 *
 *     // producer                          // consumer
 *     item->value = 42;                    while (!atomic_load(&item->ready)) {}
 *     RACETRAP_HAPPENS_BEFORE(item);       RACETRAP_HAPPENS_AFTER(item);
 *     atomic_store(&item->ready, 1);       use(item->value);
 *
 * HAPPENS_BEFORE(p) goes right before the store that publishes, HAPPENS_AFTER(p)
 * right after the load that observes it; p is any address both sides agree on.
 *
 * The macros expand to nothing unless RACETRAP_ANNOTATIONS is defined (e.g.
 * -DRACETRAP_ANNOTATIONS). When it is, they call the standard dynamic-annotation
 * functions (the ones ThreadSanitizer and Helgrind also implement) through weak
 * references: under LD_PRELOAD=libracetrap.so they reach racetrap, without it
 * they are skipped, so the program needs no extra library to link or run.
 * Usable from C and C++.
 */
#ifndef RACETRAP_ANNOTATIONS_H
#define RACETRAP_ANNOTATIONS_H

#include <stddef.h>

#ifdef RACETRAP_ANNOTATIONS

#ifdef __cplusplus
extern "C" {
#endif

#define RACETRAP_ANNOTATION_DECL_ __attribute__((weak))

void AnnotateHappensBefore(const char* file, int line, const volatile void* addr) RACETRAP_ANNOTATION_DECL_;
void AnnotateHappensAfter(const char* file, int line, const volatile void* addr) RACETRAP_ANNOTATION_DECL_;
void AnnotateBenignRaceSized(const char* file, int line, const volatile void* addr, size_t size,
                             const char* description) RACETRAP_ANNOTATION_DECL_;
void AnnotateBenignRace(const char* file, int line, const volatile void* addr,
                        const char* description) RACETRAP_ANNOTATION_DECL_;
void AnnotateIgnoreReadsBegin(const char* file, int line) RACETRAP_ANNOTATION_DECL_;
void AnnotateIgnoreReadsEnd(const char* file, int line) RACETRAP_ANNOTATION_DECL_;
void AnnotateIgnoreWritesBegin(const char* file, int line) RACETRAP_ANNOTATION_DECL_;
void AnnotateIgnoreWritesEnd(const char* file, int line) RACETRAP_ANNOTATION_DECL_;
void AnnotateRWLockCreate(const char* file, int line, const volatile void* lock) RACETRAP_ANNOTATION_DECL_;
void AnnotateRWLockDestroy(const char* file, int line, const volatile void* lock) RACETRAP_ANNOTATION_DECL_;
void AnnotateRWLockAcquired(const char* file, int line, const volatile void* lock, long is_w) RACETRAP_ANNOTATION_DECL_;
void AnnotateRWLockReleased(const char* file, int line, const volatile void* lock, long is_w) RACETRAP_ANNOTATION_DECL_;
void AnnotateNewMemory(const char* file, int line, const volatile void* mem, size_t size) RACETRAP_ANNOTATION_DECL_;

#ifdef __cplusplus
}
#endif

#define RACETRAP_ANNOTATE_(fn, ...)           \
  do {                                        \
    if (fn) fn(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#define RACETRAP_ANNOTATE0_(fn)     \
  do {                              \
    if (fn) fn(__FILE__, __LINE__); \
  } while (0)

/* Everything this thread did so far happens-before whatever a thread does after
 * RACETRAP_HAPPENS_AFTER on the same address. */
#define RACETRAP_HAPPENS_BEFORE(addr) RACETRAP_ANNOTATE_(AnnotateHappensBefore, (addr))
#define RACETRAP_HAPPENS_AFTER(addr) RACETRAP_ANNOTATE_(AnnotateHappensAfter, (addr))

/* Conflicts on [addr, addr + size) are intended: never report them. At most 256
 * ranges per process; the range stays benign for the rest of the run. */
#define RACETRAP_BENIGN_RACE(addr, size, description) \
  RACETRAP_ANNOTATE_(AnnotateBenignRaceSized, (addr), (size), (description))

/* This thread's reads (writes) between BEGIN and END are neither watched nor
 * reported. Nests; per thread. */
#define RACETRAP_IGNORE_READS_BEGIN() RACETRAP_ANNOTATE0_(AnnotateIgnoreReadsBegin)
#define RACETRAP_IGNORE_READS_END() RACETRAP_ANNOTATE0_(AnnotateIgnoreReadsEnd)
#define RACETRAP_IGNORE_WRITES_BEGIN() RACETRAP_ANNOTATE0_(AnnotateIgnoreWritesBegin)
#define RACETRAP_IGNORE_WRITES_END() RACETRAP_ANNOTATE0_(AnnotateIgnoreWritesEnd)
#define RACETRAP_IGNORE_READS_AND_WRITES_BEGIN() \
  do {                                          \
    RACETRAP_IGNORE_READS_BEGIN();              \
    RACETRAP_IGNORE_WRITES_BEGIN();             \
  } while (0)
#define RACETRAP_IGNORE_READS_AND_WRITES_END() \
  do {                                        \
    RACETRAP_IGNORE_WRITES_END();             \
    RACETRAP_IGNORE_READS_END();              \
  } while (0)

/* A hand-written reader-writer lock: call ACQUIRED after taking it and RELEASED
 * before giving it up; is_w is 1 for the writer side, 0 for readers. */
#define RACETRAP_RWLOCK_CREATE(lock) RACETRAP_ANNOTATE_(AnnotateRWLockCreate, (lock))
#define RACETRAP_RWLOCK_DESTROY(lock) RACETRAP_ANNOTATE_(AnnotateRWLockDestroy, (lock))
#define RACETRAP_RWLOCK_ACQUIRED(lock, is_w) RACETRAP_ANNOTATE_(AnnotateRWLockAcquired, (lock), (long)(is_w))
#define RACETRAP_RWLOCK_RELEASED(lock, is_w) RACETRAP_ANNOTATE_(AnnotateRWLockReleased, (lock), (long)(is_w))

/* [addr, addr + size) now holds a new object (a custom allocator handed it out
 * again): earlier accesses to it never race with later ones. */
#define RACETRAP_NEW_MEMORY(addr, size) RACETRAP_ANNOTATE_(AnnotateNewMemory, (addr), (size))

#else /* !RACETRAP_ANNOTATIONS */

#define RACETRAP_HAPPENS_BEFORE(addr) do { (void)(addr); } while (0)
#define RACETRAP_HAPPENS_AFTER(addr) do { (void)(addr); } while (0)
#define RACETRAP_BENIGN_RACE(addr, size, description) do { (void)(addr); (void)(size); } while (0)
#define RACETRAP_IGNORE_READS_BEGIN() do { } while (0)
#define RACETRAP_IGNORE_READS_END() do { } while (0)
#define RACETRAP_IGNORE_WRITES_BEGIN() do { } while (0)
#define RACETRAP_IGNORE_WRITES_END() do { } while (0)
#define RACETRAP_IGNORE_READS_AND_WRITES_BEGIN() do { } while (0)
#define RACETRAP_IGNORE_READS_AND_WRITES_END() do { } while (0)
#define RACETRAP_RWLOCK_CREATE(lock) do { (void)(lock); } while (0)
#define RACETRAP_RWLOCK_DESTROY(lock) do { (void)(lock); } while (0)
#define RACETRAP_RWLOCK_ACQUIRED(lock, is_w) do { (void)(lock); (void)(is_w); } while (0)
#define RACETRAP_RWLOCK_RELEASED(lock, is_w) do { (void)(lock); (void)(is_w); } while (0)
#define RACETRAP_NEW_MEMORY(addr, size) do { (void)(addr); (void)(size); } while (0)

#endif /* RACETRAP_ANNOTATIONS */

#endif /* RACETRAP_ANNOTATIONS_H */
