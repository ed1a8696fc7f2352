// private_mapping.h — is an address in memory that only this process's threads can
// write? The value-change detector asks before it reports: bytes that changed in a
// shared mapping (MAP_SHARED, shared files, System V or POSIX shared memory), in the
// vDSO data pages, or in read-only memory may have been written by another process
// or by the kernel, which proves no race between two of the program's threads.
// Contract: signal-safe (open/read/close of /proc/self/maps into a stack buffer, no
// allocation, errno preserved). About 20-100 us: called only after a change.
#pragma once

#include <cstddef>
#include <cstdint>

namespace racetrap {

// One line of /proc/<pid>/maps, as far as the question needs it.
struct MapsLine {
  uint64_t begin = 0, end = 0;
  bool writable = false;
  bool shared = false;   // 's' in the permissions: MAP_SHARED
  bool special = false;  // [vvar], [vvar_vclock], [vdso], [vsyscall]: the kernel's pages
};

// Parses "begin-end perms offset dev inode [path]" (line without its newline).
// False when the line is malformed. signal-safe.
bool parse_maps_line(const char* line, size_t len, MapsLine* out);

// Whether [address, address + size) lies in one private, writable mapping that is
// not one of the kernel's special pages. False also when /proc/self/maps cannot be
// read (no report rather than a doubtful one). signal-safe.
bool in_private_writable_memory(uint64_t address, uint32_t size);

}  // namespace racetrap
