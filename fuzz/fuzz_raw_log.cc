// fuzz_raw_log.cc — libFuzzer target: the raw report reader on arbitrary files.
// It must reject garbage with one line or return records that are safe to use.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "raw_log_reader.h"

using namespace racetrap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = memfd_create("fuzz_raw_log", MFD_CLOEXEC);
  static std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0) std::abort();
  if (ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  std::string error;
  std::optional<RawLog> log = read_raw_log(path, &error);
  if (!log) {
    if (error.empty() || error.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  // Touch everything the renderer would touch.
  uint64_t sum = 0;
  for (const RaceRecord& r : log->races) {
    if (r.current.stack.frame_count > kMaxFrames || r.previous.stack.frame_count > kMaxFrames) std::abort();
    for (uint32_t i = 0; i < r.current.stack.frame_count; ++i) sum += r.current.stack.frames[i];
    for (uint32_t i = 0; i < r.previous.stack.frame_count; ++i) sum += r.previous.stack.frames[i];
  }
  for (const ThreadRecord& t : log->threads) {
    sum += std::string(t.name).size();
    for (uint32_t i = 0; i < t.creation.frame_count && i < kMaxFrames; ++i) sum += t.creation.frames[i];
  }
  sum += log->maps.size();
  volatile uint64_t sink = sum;
  (void)sink;
  return 0;
}
