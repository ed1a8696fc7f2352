// raw_check.cc — reads a raw report stream with lib/raw_log_reader and prints
// "races N threads M truncated T" (exit 1 when it cannot be read).
#include <cstdio>
#include <string>

#include "raw_log_reader.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: raw_check FILE.raw\n");
    return 2;
  }
  std::string error;
  auto log = racetrap::read_raw_log(argv[1], &error);
  if (!log) {
    std::fprintf(stderr, "raw_check: %s\n", error.c_str());
    return 1;
  }
  std::printf("races %zu threads %zu truncated %d\n", log->races.size(), log->threads.size(), log->truncated ? 1 : 0);
  return 0;
}
