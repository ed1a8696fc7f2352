// interpose_io.cc — the calling thread's armed debug registers switched off across
// its large reads and writes (read, write, pread, pwrite, fread, fwrite and their
// 64-bit-offset and unlocked forms).
//
// An enabled data breakpoint slows the kernel's copies to and from user memory
// (copy_to_user / copy_from_user, rep movsb), as it slows rep movsb in user mode
// (interpose_string.cc), whatever address it watches: on the AMD host measured a
// read() from the page cache costs ~250 us more CPU per MiB while the reading thread
// has a register armed, 3.8 times an unarmed read (bench/armed_switch read). A thread
// has registers armed on other threads' watches most of the time it runs, so a
// program that reads its input in large blocks paid that on most of it (pigz -p 2
// reading 32 MiB: the kernel's copies 13.4 ms a run, 7.3 ms with this).
// The registers watch the thread's own user-mode accesses (exclude_kernel), and the
// thread makes none inside read/write/pread/pwrite, so switching them off for the
// call loses no detection: PERF_EVENT_IOC_DISABLE before, ENABLE after (~2.2 us a
// register for the pair here), from kSuspendFromBytes per armed register, where the
// copy's saving is larger than the pair's cost. Each register keeps its watch
// (registers_off.h). fread and fwrite also copy between the stream's buffer and the
// program's in user mode inside the call: those accesses are then watched only the
// other way (this thread's samples, the other threads' registers).
// signal-safe: racetrap's own writes (reports, the raw stream) come here too.
#include <dlfcn.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>

#include "real_function.h"
#include "registers_off.h"
#include "runtime.h"
#include "thread_state.h"

namespace racetrap {
namespace {

// A register's DISABLE + ENABLE pair costs about what the armed copy of 9 KiB does
// (bench/armed_switch read: 2.2 us against ~0.25 us a KiB); from 16 KiB a register the
// saving is at least the pair's cost.
constexpr size_t kSuspendFromBytes = 16 * 1024;

using ReadFn = ssize_t (*)(int, void*, size_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);
using PreadFn = ssize_t (*)(int, void*, size_t, off_t);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using FreadFn = size_t (*)(void*, size_t, size_t, FILE*);
using FwriteFn = size_t (*)(const void*, size_t, size_t, FILE*);

// Until the constructor below has looked glibc's functions up (another library's
// constructor may read or write first), the system calls themselves.
ssize_t syscall_read(int fd, void* buf, size_t n) { return syscall(SYS_read, fd, buf, n); }
ssize_t syscall_write(int fd, const void* buf, size_t n) { return syscall(SYS_write, fd, buf, n); }
ssize_t syscall_pread(int fd, void* buf, size_t n, off_t at) { return syscall(SYS_pread64, fd, buf, n, at); }
ssize_t syscall_pwrite(int fd, const void* buf, size_t n, off_t at) {
  return syscall(SYS_pwrite64, fd, buf, n, at);
}

constinit ReadFn libc_read = syscall_read;
constinit WriteFn libc_write = syscall_write;
constinit PreadFn libc_pread = syscall_pread;
constinit PwriteFn libc_pwrite = syscall_pwrite;
constinit FreadFn libc_fread = nullptr;
constinit FreadFn libc_fread_unlocked = nullptr;
constinit FwriteFn libc_fwrite = nullptr;
constinit FwriteFn libc_fwrite_unlocked = nullptr;

template <typename Fn>
void look_up(Fn* slot, const char* name) {
  if (auto* f = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name))) *slot = f;
}

// Not guarded statics in the interposers: their first call may come in a signal
// handler (racetrap's own writes).
__attribute__((constructor(101))) void look_up_libc_io() {
  look_up(&libc_read, "read");
  look_up(&libc_write, "write");
  look_up(&libc_pread, "pread64");
  look_up(&libc_pwrite, "pwrite64");
  look_up(&libc_fread, "fread");
  look_up(&libc_fread_unlocked, "fread_unlocked");
  look_up(&libc_fwrite, "fwrite");
  look_up(&libc_fwrite_unlocked, "fwrite_unlocked");
}

// stdio before the constructor: looked up at that call (an ordinary context: stdio
// is not async-signal-safe).
template <typename Fn>
Fn stdio_function(Fn* slot, const char* name) {
  if (*slot == nullptr) look_up(slot, name);
  return *slot;
}

// The calling thread's registers switched off for one call of `bytes`, when it has
// any armed and the call is large enough for them; back on when this goes.
class RegistersOffForCall {
 public:
  explicit RegistersOffForCall(size_t bytes) {
    if (bytes < kSuspendFromBytes) return;
    ThreadState* t = current_thread();
    if (t == nullptr) return;
    const unsigned armed = armed_registers(*t);
    if (armed == 0 || bytes < armed * kSuspendFromBytes) return;
    if (off_.switch_off(t)) {
      runtime().stats.io_calls_unarmed.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  RegistersOff off_;
};

// fread/fwrite's byte count, saturated (an overflowing product is a large call).
size_t stdio_bytes(size_t size, size_t count) {
  size_t bytes;
  return __builtin_mul_overflow(size, count, &bytes) ? ~size_t{0} : bytes;
}

// A large call, out of line: the interposers below send a call under
// kSuspendFromBytes straight to libc (a compare and a jump, nothing to undo after
// it), since most calls are small and some programs make millions (sort writes
// each output line with fwrite_unlocked: the interposer's frame and the register
// check around every call were ~38 instructions a line, 3% of sort's).
template <typename Fn, typename... Args>
[[gnu::noinline]] auto call_with_registers_off(size_t bytes, Fn fn, Args... args) {
  RegistersOffForCall off(bytes);
  return fn(args...);
}

// The same for fread and fwrite, whose libc function may still be to look up.
template <typename Fn, typename Buffer>
[[gnu::noinline]] size_t stdio_call_with_registers_off(Fn* slot, const char* name, Buffer buf, size_t size,
                                                        size_t count, FILE* stream) {
  RegistersOffForCall off(stdio_bytes(size, count));
  return stdio_function(slot, name)(buf, size, count, stream);
}

}  // namespace
}  // namespace racetrap

using racetrap::call_with_registers_off;
using racetrap::stdio_call_with_registers_off;
using racetrap::kSuspendFromBytes;
using racetrap::stdio_bytes;

RACETRAP_INTERPOSE ssize_t read(int fd, void* buf, size_t n) {
  if (n < kSuspendFromBytes) return racetrap::libc_read(fd, buf, n);
  return call_with_registers_off(n, racetrap::libc_read, fd, buf, n);
}

RACETRAP_INTERPOSE ssize_t write(int fd, const void* buf, size_t n) {
  if (n < kSuspendFromBytes) return racetrap::libc_write(fd, buf, n);
  return call_with_registers_off(n, racetrap::libc_write, fd, buf, n);
}

// The build's 64-bit off_t maps pread/pwrite onto pread64/pwrite64 in the headers:
// each of the four exported names is spelled out (the same functions on x86-64).
RACETRAP_INTERPOSE ssize_t interposed_pread(int fd, void* buf, size_t n, off_t at) __asm__("pread");
RACETRAP_INTERPOSE ssize_t interposed_pread64(int fd, void* buf, size_t n, off_t at) __asm__("pread64");
RACETRAP_INTERPOSE ssize_t interposed_pwrite(int fd, const void* buf, size_t n, off_t at) __asm__("pwrite");
RACETRAP_INTERPOSE ssize_t interposed_pwrite64(int fd, const void* buf, size_t n, off_t at) __asm__("pwrite64");

ssize_t interposed_pread(int fd, void* buf, size_t n, off_t at) {
  if (n < kSuspendFromBytes) return racetrap::libc_pread(fd, buf, n, at);
  return call_with_registers_off(n, racetrap::libc_pread, fd, buf, n, at);
}

ssize_t interposed_pread64(int fd, void* buf, size_t n, off_t at) {
  if (n < kSuspendFromBytes) return racetrap::libc_pread(fd, buf, n, at);
  return call_with_registers_off(n, racetrap::libc_pread, fd, buf, n, at);
}

ssize_t interposed_pwrite(int fd, const void* buf, size_t n, off_t at) {
  if (n < kSuspendFromBytes) return racetrap::libc_pwrite(fd, buf, n, at);
  return call_with_registers_off(n, racetrap::libc_pwrite, fd, buf, n, at);
}

ssize_t interposed_pwrite64(int fd, const void* buf, size_t n, off_t at) {
  if (n < kSuspendFromBytes) return racetrap::libc_pwrite(fd, buf, n, at);
  return call_with_registers_off(n, racetrap::libc_pwrite, fd, buf, n, at);
}

RACETRAP_INTERPOSE size_t fread(void* buf, size_t size, size_t count, FILE* stream) {
  const racetrap::FreadFn fn = racetrap::libc_fread;
  if (fn != nullptr && stdio_bytes(size, count) < kSuspendFromBytes) return fn(buf, size, count, stream);
  return stdio_call_with_registers_off(&racetrap::libc_fread, "fread", buf, size, count, stream);
}

RACETRAP_INTERPOSE size_t fread_unlocked(void* buf, size_t size, size_t count, FILE* stream) {
  const racetrap::FreadFn fn = racetrap::libc_fread_unlocked;
  if (fn != nullptr && stdio_bytes(size, count) < kSuspendFromBytes) return fn(buf, size, count, stream);
  return stdio_call_with_registers_off(&racetrap::libc_fread_unlocked, "fread_unlocked", buf, size, count, stream);
}

RACETRAP_INTERPOSE size_t fwrite(const void* buf, size_t size, size_t count, FILE* stream) {
  const racetrap::FwriteFn fn = racetrap::libc_fwrite;
  if (fn != nullptr && stdio_bytes(size, count) < kSuspendFromBytes) return fn(buf, size, count, stream);
  return stdio_call_with_registers_off(&racetrap::libc_fwrite, "fwrite", buf, size, count, stream);
}

RACETRAP_INTERPOSE size_t fwrite_unlocked(const void* buf, size_t size, size_t count, FILE* stream) {
  const racetrap::FwriteFn fn = racetrap::libc_fwrite_unlocked;
  if (fn != nullptr && stdio_bytes(size, count) < kSuspendFromBytes) return fn(buf, size, count, stream);
  return stdio_call_with_registers_off(&racetrap::libc_fwrite_unlocked, "fwrite_unlocked", buf, size, count, stream);
}
